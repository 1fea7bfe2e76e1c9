"""Page geometry: skew (text-line angle with a confidence), two-page spreads, orientation, PDF pages as displayed."""
