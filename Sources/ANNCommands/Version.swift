/// The software version every tool prints with --version (the formats carry their own).
public let toolVersion = "0.2.0"
