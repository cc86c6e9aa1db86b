"""Penguins predicted inside your own program: no service, the same contract and one-row path.

Run it in the folder where `mlrig run` trained examples/penguins/mlrig.yaml:
    python embedded.py
"""

import pandas as pd

from mlrig.serving.embedded import load

model = load("mlrig.yaml")  # the champion, resolved once (load("mlrig.yaml", version=1) pins one)
penguin = {
    "island": "Biscoe",
    "bill_length_mm": 48.6,
    "bill_depth_mm": 16.0,
    "flipper_length_mm": 230.0,
    "body_mass_g": 5800.0,
    "sex": "male",
    "year": 2009,
}
answer = model.predict(penguin, explain=True)
print(f"v{model.version}: {answer['prediction']} {answer['probabilities']}")
print("why:", answer["explanation"]["method"])

# a frame of penguins at once (a missing sex is allowed: it was missing in training too)
frame = pd.DataFrame([penguin, {**penguin, "island": "Dream", "sex": None, "body_mass_g": 3500.0}])
print(model.predict_frame(frame)[["prediction", "probabilities"]])
