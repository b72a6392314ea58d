from .attention_map_visualization_hook import AttentionMapVisualizationHook

__all__ = ['AttentionMapVisualizationHook']
