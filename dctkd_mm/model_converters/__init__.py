"""Checkpoint converters: torchvision-layout files (CSAIL Places365, the
authors', torchvision's model zoo) -> MMPretrain checkpoints."""
from .checkpoint_formats import (UnrecognisedCheckpointError,
                                 unwrap_checkpoint)
from .output_files import OverwriteInputError
from .torchvision_layouts import UnknownArchitectureError, detect_architecture
from .torchvision_to_mmpretrain import (Conversion, build_classifier,
                                        convert_checkpoint,
                                        convert_state_dict, model_config)

__all__ = [
    'Conversion', 'OverwriteInputError', 'UnknownArchitectureError',
    'UnrecognisedCheckpointError', 'build_classifier', 'convert_checkpoint',
    'convert_state_dict', 'detect_architecture', 'model_config',
    'unwrap_checkpoint'
]
