/// The version printed by `vidclass --version` and written into model files' provenance.
public let vidclassVersion = "0.1.0"
