public struct RouterTrainingParameters: Sendable {
    public var epochs = 10
    public var batch = 1024
    public var learningRate: Float = 1e-3
    /// Gaussian noise added to training queries, as a fraction of the per-dimension spread.
    public var noise: Float = 0.05
    /// L2 penalty on the weights (decoupled, AdamW style).
    public var weightDecay: Float = 1e-4
    public var seed: UInt64 = 1
    public init() {}
}

/// One epoch's figures, for -v and for choosing the epoch to keep.
public struct RouterEpoch: Sendable {
    public var epoch: Int
    public var loss: Double
    public var accuracy: Double
    /// On held-out examples; nil without a validation split.
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    public var seconds: Double
    public var samplesPerSecond: Double
}
