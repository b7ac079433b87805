/// What one setting of a sweep measured over a set of queries, as sums: the tallies of the
/// slices of a query file add up to the whole file's, so a sharded sweep merges exactly.
public struct RecallTally: Sendable, Equatable {
    public var setting: String
    public var queries: Int
    /// See `Recall.hits1` and `Recall.hits10`.
    public var hits1: Int
    public var hits10: Int?
    /// Fetched in all, over the queries.
    public var vectors: Int
    public var bytes: Int
    public var clusters: Int
    /// Wall time of the setting's search, in whole microseconds.
    public var micros: Int

    public init(setting: String, queries: Int, hits1: Int, hits10: Int?, vectors: Int, bytes: Int, clusters: Int, micros: Int) {
        self.setting = setting
        self.queries = queries
        self.hits1 = hits1
        self.hits10 = hits10
        self.vectors = vectors
        self.bytes = bytes
        self.clusters = clusters
        self.micros = micros
    }

    /// The curve's point: recalls and mean fetch per query; queries per second of the
    /// summed search time.
    public var point: RecallCurve.Point {
        let m = Double(queries)
        return .init(setting: setting, recall1: Recall.fraction(hits1, of: queries),
                     recall10: hits10.map { Recall.fraction($0, of: queries * Recall.neighboursForAt10) },
                     vectors: Double(vectors) / m, bytes: Double(bytes) / m, clusters: Double(clusters) / m,
                     queriesPerSecond: m / (Double(max(1, micros)) / 1e6))
    }

    /// The tally of both sets of queries, which must be of one setting.
    public static func + (a: RecallTally, b: RecallTally) -> RecallTally {
        precondition(a.setting == b.setting && (a.hits10 == nil) == (b.hits10 == nil))
        return RecallTally(setting: a.setting, queries: a.queries + b.queries, hits1: a.hits1 + b.hits1,
                           hits10: a.hits10.map { $0 + b.hits10! }, vectors: a.vectors + b.vectors, bytes: a.bytes + b.bytes,
                           clusters: a.clusters + b.clusters, micros: a.micros + b.micros)
    }
}
