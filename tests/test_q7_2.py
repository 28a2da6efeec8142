"""Q7.2: the flowers loader, SqueezeNet's new classifier, weight loading and
its errors, and a --quick run of run_q7_2.py on a tiny synthetic ImageFolder."""
import json

import pytest
import torch
import torchvision.transforms.v2.functional as TF
from conftest import run_script

import q7_flowers as flowers
import torch_common
from util import UsageError

NUM_CLASSES = 17


def write_flowers(root, per_class=2, size=(48, 64)):
    """root/oxford-flowers17/{train,val,test}/<0..16>/image_NNNN.jpg plus
    classes.txt, as scripts/get_data.sh lays it out. Class c is a flat colour
    with a little noise, so it is learnable; its name is 'flower<c>'."""
    gen = torch.Generator().manual_seed(0)
    dest = root / 'oxford-flowers17'
    n = 0
    for split in flowers.SPLITS:
        for c in range(NUM_CLASSES):
            folder = dest / split / str(c)
            folder.mkdir(parents=True)
            colour = torch.tensor([(c * 37) % 256, (c * 91) % 256, (c * 153) % 256]).view(3, 1, 1)
            for _ in range(per_class):
                noise = torch.randint(-20, 21, (3, *size), generator=gen)
                img = (colour + noise).clamp(0, 255).to(torch.uint8)
                n += 1
                TF.to_pil_image(img).save(folder / f'image_{n:04d}.jpg', quality=90)
    (dest / 'classes.txt').write_text(''.join(f'{c} flower{c}\n' for c in range(NUM_CLASSES)))
    return root


@pytest.fixture
def flowers_dir(tmp_path):
    return write_flowers(tmp_path / 'data')


def test_class_names_follow_the_folder_labels_not_imagefolder_order(flowers_dir):
    splits, names = flowers.load_flowers(flowers_dir / 'oxford-flowers17', 32)
    # ImageFolder sorts '0', '1', '10', ..., '16', '2', ..., '9' as strings
    assert names[:3] == ['flower0', 'flower1', 'flower10'] and names[-1] == 'flower9'
    x, y = splits['train']
    assert x.dtype == torch.uint8 and x.shape == (2 * NUM_CLASSES, 3, 32, 32)
    # the image labelled 'flower10' has class 10's colour
    red = x[y == names.index('flower10')][:, 0].float().mean().item()
    assert abs(red - (10 * 37) % 256) < 10


def test_missing_dataset_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match='get_data.sh flowers'):
        flowers.load_flowers(tmp_path / 'nowhere', 32)


@pytest.mark.parametrize('arch', flowers.ARCHS)
def test_new_classifier_has_17_outputs_and_only_it_trains(arch):
    model = flowers.freeze_backbone(flowers.replace_classifier(flowers.squeezenet(arch), NUM_CLASSES))
    assert model(torch.rand(2, 3, 64, 64)).shape == (2, NUM_CLASSES)
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {'classifier.1.weight', 'classifier.1.bias'}
    assert model.classifier[1].weight.shape == (NUM_CLASSES, 512, 1, 1)
    assert isinstance(model.classifier[2], torch.nn.ReLU)  # SqueezeNet's ReLU + pool stay


def test_head_on_cached_features_equals_the_whole_model():
    torch.manual_seed(0)
    model = flowers.replace_classifier(flowers.squeezenet('squeezenet1_1'), NUM_CLASSES).eval()
    images = torch.randint(0, 256, (3, 3, 80, 80), dtype=torch.uint8)
    feats = flowers.backbone_features(model, images, 64, torch.device('cpu'))
    with torch.no_grad():
        cached = flowers.head(model)(feats)
        whole = model(flowers.normalise(flowers.to_float(images[:, :, 8:72, 8:72])))
    torch.testing.assert_close(cached, whole, rtol=1e-4, atol=1e-5)


def test_bfloat16_features_are_kept_as_they_are_computed():
    """Under bfloat16 the cached features stay bfloat16 (half the memory):
    the new layer then computes exactly what it would on float32 copies,
    which autocast rounds to bfloat16 anyway."""
    torch.manual_seed(0)
    model = flowers.replace_classifier(flowers.squeezenet('squeezenet1_1'), NUM_CLASSES).eval()
    images = torch.randint(0, 256, (3, 3, 80, 80), dtype=torch.uint8)
    feats = flowers.backbone_features(model, images, 64, torch.device('cpu'), 'bfloat16')
    assert feats.dtype == torch.bfloat16
    with torch.no_grad(), torch_common.autocast(torch.device('cpu'), 'bfloat16'):
        assert torch.equal(flowers.head(model)(feats), flowers.head(model)(feats.float()))


def test_weights_of_the_wrong_architecture_say_which_arch_they_fit(tmp_path):
    path = tmp_path / 'sq10.pth'
    torch.save(flowers.squeezenet('squeezenet1_0').state_dict(), path)
    with pytest.raises(UsageError, match='pass --arch squeezenet1_0'):
        flowers.pretrained_squeezenet('squeezenet1_1', str(path), tmp_path)
    model, arch, used = flowers.pretrained_squeezenet('squeezenet1_0', str(path), tmp_path)
    assert arch == 'squeezenet1_0' and str(path) in used


def test_missing_or_corrupt_weights_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match='does not exist'):
        flowers.pretrained_squeezenet('squeezenet1_1', str(tmp_path / 'none.pth'), tmp_path)
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'not a checkpoint')
    with pytest.raises(UsageError, match='not a PyTorch file'):
        flowers.pretrained_squeezenet('squeezenet1_1', str(bad), tmp_path)


def test_offline_falls_back_to_the_mirror_weights(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))  # an empty cache
    with pytest.raises(UsageError, match='get_data.sh weights'):
        flowers.pretrained_squeezenet('squeezenet1_1', 'imagenet', tmp_path, online=lambda: False)
    (tmp_path / 'weights').mkdir()
    torch.save(flowers.squeezenet('squeezenet1_0').state_dict(), tmp_path / flowers.MIRROR_WEIGHTS)
    model, arch, used = flowers.pretrained_squeezenet('squeezenet1_1', 'imagenet', tmp_path,
                                                      online=lambda: False)
    assert arch == 'squeezenet1_0' and flowers.MIRROR_WEIGHTS.name in used


def test_quick_run_writes_the_documented_outputs(flowers_dir, tmp_path):
    out = tmp_path / 'out'
    run_script('run_q7_2.py', '--quick', '--weights', 'random', '--unfreeze-epochs', '1',
               '--data-dir', flowers_dir, '--out', out)
    metrics = json.loads((out / 'metrics.json').read_text())
    for key in ('finetune_val_acc', 'finetune_test_acc', 'scratch_val_acc', 'scratch_test_acc',
                'finetune_trainable_params', 'scratch_trainable_params', 'finetune_seconds',
                'scratch_seconds', 'unfrozen_test_acc', 'weights_used', 'arch', 'seed', 'epochs', 'seconds'):
        assert key in metrics, key
    assert 'random' in metrics['weights_used'] and metrics['arch'] == 'squeezenet1_1'
    assert metrics['finetune_trainable_params'] == 512 * NUM_CLASSES + NUM_CLASSES
    assert 0 <= metrics['finetune_test_acc'] <= 1 and 0 <= metrics['scratch_test_acc'] <= 1
    assert metrics['class_names'][2] == 'flower10'
    assert metrics['unfrozen_trainable_params'] > metrics['finetune_trainable_params']
    for name in ('accuracy.png', 'loss.png', 'test_predictions.png', 'comparison.md',
                 'finetuned_squeezenet.pt', 'finetuned_squeezenet_all_layers.pt', 'scratch_cnn.pt'):
        assert (out / name).exists(), name


def test_bad_weights_path_gives_a_clean_error(flowers_dir, tmp_path):
    proc = run_script('run_q7_2.py', '--quick', '--weights', tmp_path / 'missing.pth',
                      '--data-dir', flowers_dir, '--out', tmp_path / 'out', check=False)
    assert proc.returncode == 2
    assert 'error:' in proc.stderr and 'does not exist' in proc.stderr and 'Traceback' not in proc.stderr
