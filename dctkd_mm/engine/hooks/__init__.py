from .atomic_checkpoint_hook import AtomicCheckpointHook
from .attention_map_visualization_hook import AttentionMapVisualizationHook
from .channels_last_hook import ChannelsLastHook
from .class_count_check_hook import ClassCountCheckHook

__all__ = [
    'AtomicCheckpointHook', 'AttentionMapVisualizationHook',
    'ChannelsLastHook', 'ClassCountCheckHook'
]
