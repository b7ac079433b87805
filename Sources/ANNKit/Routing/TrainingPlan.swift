/// A router training request: each setting nil where the request names none, resolved for a
/// router kind into that kind's parameters. Every default comes from the kind's parameter
/// struct (`PQRouterParameters`, `KernelTrainingParameters`, `RouterTrainingParameters`) or
/// from the sizing rules here, so that no caller restates one.
public struct TrainingPlan: Sendable {
    public var epochs: Int?
    public var learningRate: Float?
    public var batch: Int?
    public var noise: Float?
    public var seed: UInt64
    /// PQ only.
    public var calibration: PQRouter.Calibration?
    public var codedShare: Double?
    public var rotation: CodeRotation?
    /// Kernel only.
    public var points: Int?
    public var candidates: Int?
    public var precision: PointPrecision?
    public var pointLearningRate: Float?
    /// MLP only.
    public var hidden: Int?
    public var weightDecay: Float?

    /// Clusters a new kernel router scores per query, those whose centroids rank first.
    public static let defaultCandidates = 64
    /// The most points per cluster a new kernel router gets by default.
    public static let mostPoints = 256
    /// And at most this share of the mean cluster size: a point per 2.5 stored vectors would
    /// already hold most of the data in memory.
    public static let pointShare = (numerator: 2, denominator: 5)

    public init(seed: UInt64) { self.seed = seed }

    /// The settings named that `kind` does not take, in `TrainingSetting` order.
    public func unused(by kind: RouterKind) -> [TrainingSetting] {
        TrainingSetting.allCases.filter { names($0) && !kind.takes($0) }
    }

    /// Whether the request names `setting`.
    public func names(_ setting: TrainingSetting) -> Bool {
        switch setting {
        case .calibration: return calibration != nil
        case .codedShare: return codedShare != nil
        case .rotation: return rotation != nil
        case .points: return points != nil
        case .candidates: return candidates != nil
        case .precision: return precision != nil
        case .pointLearningRate: return pointLearningRate != nil
        case .hidden: return hidden != nil
        case .weightDecay: return weightDecay != nil
        case .batch: return batch != nil
        case .noise: return noise != nil
        }
    }

    /// The epochs `kind` runs.
    public func epochs(for kind: RouterKind) -> Int { epochs ?? kind.defaultEpochs }

    /// How the kernel router's points are stored.
    public var pointPrecision: PointPrecision { precision ?? .standard }

    /// The PQ router's parameters: its code sized to `budget` bytes, for `share` of the stored
    /// vectors (`codedShare`, else the default share for the budget per base vector).
    public func pq(index: PackedIndex, budget: Int, memory: MemoryBudget, threads: Int) throws -> PQRouterParameters {
        var p = PQRouterParameters(m: 1, coded: 1)
        p.calibration = calibration ?? p.calibration
        p.rotation = rotation ?? PQRouterParameters.rotation(dim: index.dim, budget: budget)
        let share = codedShare ?? PQRouterParameters.codedShare(bytesPerVector: Double(budget) / Double(max(1, index.baseCount)))
        (p.m, p.coded) = try MemoryFit.pqCode(index: index, share: share, hidden: p.calibration == .learned ? p.hidden : 0,
                                              rotated: p.rotation != .none, budget: budget, memory: memory)
        p.epochs = epochs ?? p.epochs
        p.learningRate = learningRate ?? p.learningRate
        p.seed = seed
        p.threads = threads
        return p
    }

    /// The points per cluster of a new kernel router: `points`, else the most that fit
    /// `budget` within `mostPoints` and `pointShare` of the mean cluster size. Refuses a router
    /// over the budget.
    public func kernelPoints(index: PackedIndex, budget: Int, memory: MemoryBudget) throws -> Int {
        let half = pointPrecision.isHalf
        let stored = index.entries.reduce(0) { $0 + $1.vectors }
        let (num, den) = Self.pointShare
        let cap = max(1, min(Self.mostPoints, stored * num / (den * max(1, index.clusterCount))))
        let m = try points ?? MemoryFit.kernelPoints(index: index, cap: cap, half: half, budget: budget, memory: memory)
        try MemoryFit.check(KernelRouter.footprint(clusterCount: index.clusterCount, slots: m, dim: index.dim, half: half),
                            budget: budget, memory: memory, what: "a kernel router of \(m) points per cluster")
        return m
    }

    /// The kernel router's training parameters.
    public func kernel() -> KernelTrainingParameters {
        var p = KernelTrainingParameters()
        p.epochs = epochs(for: .kernel)
        p.batch = batch ?? p.batch
        p.learningRate = learningRate ?? p.learningRate
        p.pointLearningRate = pointLearningRate ?? p.pointLearningRate
        p.noise = noise ?? p.noise
        p.seed = seed
        return p
    }

    /// The hidden width of a new MLP: `hidden`, else the widest that fits `budget`. Refuses
    /// an MLP over the budget.
    public func mlpWidth(index: PackedIndex, budget: Int, memory: MemoryBudget) throws -> Int {
        let h = try hidden ?? MemoryFit.mlpWidth(index: index, budget: budget, memory: memory)
        try MemoryFit.check(RouterModel.footprint(dim: index.dim, clusterCount: index.clusterCount, hidden1: h, hidden2: h),
                            budget: budget, memory: memory, what: "an MLP of width \(h)")
        return h
    }

    /// The MLP's training parameters (plain or residual).
    public func mlp() -> RouterTrainingParameters {
        var p = RouterTrainingParameters()
        p.epochs = epochs(for: .mlp)
        p.batch = batch ?? p.batch
        p.learningRate = learningRate ?? p.learningRate
        p.noise = noise ?? p.noise
        p.weightDecay = weightDecay ?? p.weightDecay
        p.seed = seed
        return p
    }
}
