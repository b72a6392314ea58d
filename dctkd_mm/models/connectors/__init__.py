from .attention_map_connector import AttentionMapConnector
from .residual_feature_adapter import ResidualFeatureAdapter

__all__ = ['AttentionMapConnector', 'ResidualFeatureAdapter']
