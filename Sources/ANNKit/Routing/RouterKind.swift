/// The kinds of router ann-train builds: `pq` (product-quantised codes of the vectors nearest
/// a cluster boundary), `residual` (an MLP added to centroid routing), `mlp` (the paper's
/// plain network) or `kernel` (weighted points inside each cluster).
public enum RouterKind: String, CaseIterable, Sendable {
    case pq, residual, mlp, kernel

    /// The kind of the router in `file`.
    public init(model file: ModelFile) throws {
        switch file.architecture {
        case .pq: self = .pq
        case .kernel: self = .kernel
        case .mlp: self = try RouterModel(file: file).centroidWeight == 0 ? .mlp : .residual
        }
    }

    /// Whether a model of this kind can be trained further: a PQ router's codes belong to the
    /// index it was built for, so it is built anew for each.
    public var continues: Bool { self != .pq }

    /// Whether `setting` means anything to this kind.
    public func takes(_ setting: TrainingSetting) -> Bool { setting.kinds.contains(self) }

    /// Passes over the training queries unless asked otherwise.
    public var defaultEpochs: Int {
        switch self {
        case .pq: return PQRouterParameters.defaultEpochs
        case .kernel: return KernelTrainingParameters().epochs
        case .residual, .mlp: return RouterTrainingParameters().epochs
        }
    }

    /// Adam's learning rate unless asked otherwise.
    public var defaultLearningRate: Float {
        switch self {
        case .pq: return PQRouterParameters.defaultLearningRate
        case .kernel: return KernelTrainingParameters().learningRate
        case .residual, .mlp: return RouterTrainingParameters().learningRate
        }
    }

    /// The noise added to training queries unless asked otherwise; nil where the kind adds none
    /// (the PQ router calibrates on the distances its codes give).
    public var defaultNoise: Float? {
        switch self {
        case .pq: return nil
        case .kernel: return KernelTrainingParameters().noise
        case .residual, .mlp: return RouterTrainingParameters().noise
        }
    }
}
