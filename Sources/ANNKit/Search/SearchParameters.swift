/// How one search chooses what it fetches, passed with each call (as faiss's
/// SearchParameters): the engine keeps only the index, the router and its threads, so one
/// engine serves searches with different rules, a sweep's settings one after another.
public struct SearchParameters: Sendable, Equatable {
    /// Clusters fetched per query when no probe rule is named.
    public static let defaultNprobe = 8

    /// How many of the ranked clusters each query fetches.
    public var probe: ProbeSelection
    /// Added to a cluster's score per unit of log(size): with a router model (scores are
    /// −log p up to a constant) 1 ranks clusters by probability per vector fetched.
    public var sizeWeight: Float
    /// SPANN's query-time pruning (`ProbeSelection.prune`): when set, a chosen cluster whose
    /// centroid is more than (1 + prune) times as far as the nearest chosen one is not fetched.
    public var prune: Float?

    public init(probe: ProbeSelection = .nprobe(defaultNprobe), sizeWeight: Float = 0, prune: Float? = nil) {
        self.probe = probe
        self.sizeWeight = sizeWeight
        self.prune = prune
    }
}
