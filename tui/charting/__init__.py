"""Terminal line charts: the pure maths and state behind `tui.widgets.chart.MetricChart`.

- `downsample`: min/max per pixel column, so a million points draw fast and spikes show.
- `smoothing`: TensorBoard's debiased exponential moving average.
- `ticks`: round tick values and short labels (numbers, durations, clock times).
- `canvas`: the braille rasteriser (2 x 4 pixels per cell, one colour per cell).
- `model`: `Series` and the immutable `ChartState` (axis mode, smoothing, log y, robust y,
  cursor, zoom window); every user action is a method returning a new state.
- `layout`: a whole chart as lines of styled text runs, for the widget to paint.
"""

from mmtop.tui.charting.canvas import BrailleCanvas, Kind
from mmtop.tui.charting.downsample import minmax_downsample, minmax_indices
from mmtop.tui.charting.layout import Frame, build_frame
from mmtop.tui.charting.model import (
    PALETTE,
    SMOOTHING_LEVELS,
    X_MODES,
    ChartState,
    Readout,
    Series,
    XMode,
    palette_colors,
)
from mmtop.tui.charting.smoothing import ema

__all__ = [
    "PALETTE",
    "SMOOTHING_LEVELS",
    "X_MODES",
    "BrailleCanvas",
    "ChartState",
    "Frame",
    "Kind",
    "Readout",
    "Series",
    "XMode",
    "build_frame",
    "ema",
    "minmax_downsample",
    "minmax_indices",
    "palette_colors",
]
