extension NeighborList {
    /// Loads a ground truth to compare with `other` (the results, or an index), which records
    /// `metric`. A foreign truth (ids alone) records no metric and takes it; a native one must
    /// be for it: two files that contradict each other are bad data, not a wrong request.
    public static func loadTruth(_ path: String, distances: String? = nil, metric: Metric, comparedWith other: String) throws -> NeighborList {
        let t = try load(path, distances: distances, metric: metric)
        guard t.metric == metric else {
            throw ANNError.metricMismatch(source: path, what: "ground truth", recorded: t.metric, expected: metric, against: other)
        }
        return t
    }
}
