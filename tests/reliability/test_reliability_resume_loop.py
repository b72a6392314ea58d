"""ExactResumeEpochBasedTrainLoop on a toy model whose training draws from
every generator (NumPy and Python augmentation, a torch dropout), so a
generator left in the wrong state shows in the weights. In-process and
fast; the kill-and-resume run of the real flagship config is in
test_reliability_resume.py.
"""
import pytest
from mmengine.runner import Runner

from utils import (TOY_BATCH, TOY_SAMPLES, DropoutModel, NoisyDataset,
                   runner_state_restored, same_weights, train_toy)
from dctkd_mm.engine.runner import (ExactResumeEpochBasedTrainLoop,
                                    ResumeMismatchError)


def test_validation_does_not_change_training(tmp_path):
    """The resumed run skips validations the interrupted run did, so
    validation must not move the generators (here: the dropout masks)."""
    with_val = train_toy(tmp_path / 'val')
    without = train_toy(tmp_path / 'noval', validate=False)
    assert same_weights(with_val, without)
    # Control: in MMEngine's loop validation does change training.
    plain_val = train_toy(tmp_path / 'plain_val', loop='EpochBasedTrainLoop')
    plain = train_toy(tmp_path / 'plain', loop='EpochBasedTrainLoop',
                      validate=False)
    assert not same_weights(plain_val, plain)


@pytest.mark.parametrize(
    'checkpoint, resume_from',
    [
        # mid-epoch 1 (batch 3 of 5), and mid-epoch 2 (batch 2)
        (dict(type='CheckpointHook', interval=3, by_epoch=False), 'iter_3'),
        (dict(type='CheckpointHook', interval=7, by_epoch=False), 'iter_7'),
        # the last batch of epoch 1 trained, its end pending
        (dict(type='CheckpointHook', interval=5, by_epoch=False), 'iter_5'),
        # an epoch-end checkpoint, as the flagship config writes
        (dict(type='CheckpointHook', interval=1), 'epoch_1'),
    ])
def test_resume_matches_uninterrupted_run(tmp_path, checkpoint, resume_from):
    full = train_toy(tmp_path, checkpoint=checkpoint)
    resumed = train_toy(
        tmp_path / 'resumed',
        resume_from=str(tmp_path / f'{resume_from}.pth'),
        checkpoint=checkpoint)
    assert same_weights(full, resumed)
    # Every sample once per epoch: the resumed run trained exactly the
    # samples the interrupted one had not.
    trained_before = int(resume_from.split('_')[1]) * (
        TOY_BATCH if resume_from.startswith('iter') else TOY_SAMPLES)
    assert resumed.seen == full.seen[trained_before:]


def test_mmengine_loop_repeats_the_interrupted_epoch(tmp_path):
    """Why the loop exists: MMEngine's loop, resumed from a mid-epoch
    checkpoint, trains the epoch's first batches again."""
    checkpoint = dict(type='CheckpointHook', interval=3, by_epoch=False)
    full = train_toy(tmp_path, loop='EpochBasedTrainLoop',
                     checkpoint=checkpoint)
    resumed = train_toy(
        tmp_path / 'resumed',
        loop='EpochBasedTrainLoop',
        resume_from=str(tmp_path / 'iter_3.pth'),
        checkpoint=checkpoint)
    assert len(resumed.seen) == len(full.seen)  # 3 batches too many ...
    assert not same_weights(full, resumed)  # ... and other weights


def test_resume_mid_epoch_with_another_batch_size_is_refused(tmp_path):
    checkpoint = dict(type='CheckpointHook', interval=3, by_epoch=False)
    train_toy(tmp_path, checkpoint=checkpoint, max_epochs=1)
    with pytest.raises(ResumeMismatchError) as info:
        train_toy(tmp_path / 'resumed',
                  resume_from=str(tmp_path / 'iter_3.pth'),
                  checkpoint=checkpoint,
                  batch=5)
    message = str(info.value)
    assert 'after batch 3 of 5' in message
    assert 'batch_size' in message and '= 2' in message and 'has 5' in message
    assert 'load_from' in message


@pytest.mark.parametrize(
    'change, setting, saved, new',
    [(dict(num_samples=9), 'dataset_length', 10, 9),
     (dict(num_samples=12, batch=3), 'dataset_length', 10, 12),
     (dict(accumulate=2), 'accumulative_counts', 1, 2)],
    ids=['one-image-fewer', 'other-batch-same-count', 'accumulation'])
def test_resume_with_the_same_batch_count_but_other_samples_is_refused(
        tmp_path, change, setting, saved, new):
    """Issue case 4: 10 -> 9 images (still 5 batches of 2), or batches of
    3 over 12 images (5 batches again): the batch count alone matches, the
    saved position does not. Each is refused naming setting and values."""
    checkpoint = dict(type='CheckpointHook', interval=3, by_epoch=False)
    train_toy(tmp_path, checkpoint=checkpoint, max_epochs=1)
    with pytest.raises(ResumeMismatchError) as info:
        train_toy(tmp_path / 'resumed',
                  resume_from=str(tmp_path / 'iter_3.pth'),
                  checkpoint=checkpoint, **change)
    message = str(info.value)
    assert f'{setting} ' in message, message
    assert f'= {saved!r}, but this run has {new!r}' in message, message
    assert 'load_from=CHECKPOINT' in message


def test_resume_between_two_accumulation_steps_is_exact(tmp_path):
    """Issue case 5 (accumulative_counts=2): iter_3 is written after the
    first of two accumulated backward passes. The checkpoint keeps the
    partial gradients (AtomicCheckpointHook), so the resumed run ends with
    the weights of the uninterrupted one; the control, MMEngine's hook,
    loses them and ends elsewhere."""
    ours = dict(type='AtomicCheckpointHook', interval=3, by_epoch=False)
    full = train_toy(tmp_path, checkpoint=ours, accumulate=2)
    resumed = train_toy(tmp_path / 'resumed', checkpoint=ours, accumulate=2,
                        resume_from=str(tmp_path / 'iter_3.pth'))
    assert same_weights(full, resumed)
    assert resumed.seen == full.seen[3 * TOY_BATCH:]

    plain = dict(type='CheckpointHook', interval=3, by_epoch=False)
    train_toy(tmp_path / 'plain', checkpoint=plain, accumulate=2)
    lost = train_toy(tmp_path / 'plain_resumed', checkpoint=plain,
                     accumulate=2,
                     resume_from=str(tmp_path / 'plain' / 'iter_3.pth'))
    assert not same_weights(full, lost)


def test_skipping_keeps_the_sampler_and_its_order(tmp_path):
    """After the resumed epoch the dataloader has its own sampler back."""
    checkpoint = dict(type='CheckpointHook', interval=3, by_epoch=False)
    train_toy(tmp_path, checkpoint=checkpoint, max_epochs=1)
    with runner_state_restored():
        runner = Runner(
            model=DropoutModel(),
            work_dir=str(tmp_path / 'check'),
            experiment_name='toy_sampler_check',
            train_dataloader=dict(
                dataset=NoisyDataset(),
                sampler=dict(type='DefaultSampler', shuffle=True),
                batch_size=TOY_BATCH,
                num_workers=0,
                collate_fn=dict(type='default_collate')),
            train_cfg=dict(
                type='ExactResumeEpochBasedTrainLoop', max_epochs=2),
            # The checkpoint's optimizer: another one is refused on resume.
            optim_wrapper=dict(
                optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
            randomness=dict(seed=1),
            load_from=str(tmp_path / 'iter_3.pth'),
            resume=True,
            default_scope='mmengine')
        runner.train()
        loop = runner.train_loop
        assert isinstance(loop, ExactResumeEpochBasedTrainLoop)
        sampler = loop.dataloader.batch_sampler.sampler
        assert sampler is loop.dataloader.sampler


def test_sample_fingerprint_sees_the_sample_list_not_its_location(tmp_path):
    """The digest a resume compares: another label or order changes it,
    the same tree under another root does not."""
    import shutil

    from dctkd_mm.datasets import Places365
    from dctkd_mm.engine.runner.resume_settings import sample_fingerprint
    from utils import make_places365_tree
    root = str(tmp_path / 'a')
    make_places365_tree(root, per_class=2, val_per_class=0)
    digest = sample_fingerprint(Places365(data_root=root))
    assert digest and digest == sample_fingerprint(Places365(data_root=root))
    shutil.copytree(root, str(tmp_path / 'moved'))
    assert sample_fingerprint(
        Places365(data_root=str(tmp_path / 'moved'))) == digest
    train_list = tmp_path / 'a' / 'places365_train_standard.txt'
    lines = train_list.read_text().splitlines()
    train_list.write_text('\n'.join(lines[1:] + lines[:1]) + '\n')
    assert sample_fingerprint(Places365(data_root=root)) != digest


def test_sampler_seed_comes_from_the_checkpoint_unless_the_config_sets_one(
        tmp_path):
    """MMEngine's resume takes the checkpoint's seed for the generators
    when the config sets none, but the sampler, built earlier, kept its
    own shuffling seed. It is taken over too (exact); a config that sets
    another seed is refused, naming it."""
    checkpoint = dict(type='CheckpointHook', interval=3, by_epoch=False)
    full = train_toy(tmp_path, checkpoint=checkpoint)
    resumed = train_toy(tmp_path / 'adopted', checkpoint=checkpoint, seed=2,
                        resume_from=str(tmp_path / 'iter_3.pth'))
    assert same_weights(full, resumed)
    assert resumed.seen == full.seen[3 * TOY_BATCH:]
    with pytest.raises(ResumeMismatchError) as info:
        train_toy(tmp_path / 'explicit', checkpoint=checkpoint, seed=2,
                  seed_in_config=True,
                  resume_from=str(tmp_path / 'iter_3.pth'))
    assert 'sampler_seed' in str(info.value)
