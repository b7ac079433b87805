/// The training settings that only some router kinds have: a request that names one for
/// another kind is refused rather than silently ignored.
public enum TrainingSetting: CaseIterable, Sendable {
    /// How the PQ router turns candidate distances into probabilities.
    case calibration
    /// The share of the index's vectors that get a PQ code.
    case codedShare
    /// Whether the PQ router's codes are of rotated residuals.
    case rotation
    /// The kernel router's points per cluster, clusters scored per query, stored precision and
    /// the learning rate of the points themselves.
    case points, candidates, precision, pointLearningRate
    /// The MLP's hidden width and weight decay.
    case hidden, weightDecay
    /// Queries per step and the noise added to them: the PQ router's calibration steps are its
    /// own, over the distances its codes give.
    case batch, noise

    /// The kinds that take this setting.
    public var kinds: [RouterKind] {
        switch self {
        case .calibration, .codedShare, .rotation: return [.pq]
        case .points, .candidates, .precision, .pointLearningRate: return [.kernel]
        case .hidden, .weightDecay: return [.mlp, .residual]
        case .batch, .noise: return [.kernel, .mlp, .residual]
        }
    }
}
