from .distill_test_loop import SingleTeacherDistillTestLoop
from .exact_resume_loop import ExactResumeEpochBasedTrainLoop
from .resume_settings import ResumeMismatchError
from .rng_state import (CorruptCheckpointStateError, get_rng_state,
                        preserved_rng_state, set_rng_state)

__all__ = [
    'SingleTeacherDistillTestLoop', 'ExactResumeEpochBasedTrainLoop',
    'ResumeMismatchError', 'CorruptCheckpointStateError',
    'get_rng_state', 'set_rng_state', 'preserved_rng_state'
]
