from .activation_map_adapter import ActivationMapAdapter
from .attention_map_connector import AttentionMapConnector

__all__ = ['AttentionMapConnector', 'ActivationMapAdapter']
