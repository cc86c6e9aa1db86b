"""The only package that imports Feast. Each place that first reaches for it calls
unchecked.import_feast(), which imports it without typeguard's instrumentation; a process that
never needs Feast (a cached stage) never imports it."""
