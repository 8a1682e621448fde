"""Pure: demand series, forecasting models, backtests and quantile forecasts. No I/O."""
