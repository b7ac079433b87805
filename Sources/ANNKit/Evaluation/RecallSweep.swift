/// A recall curve measured: the queries searched at each setting, each point's recall@1 and
/// recall@10 against the ground truth and its mean fetch per query (ann-eval sweep).
public enum RecallSweep {
    /// Searches `queries` for their `k` nearest at each of `settings` (named as the curve will
    /// name them) and measures the result
    /// against `truth` (`source` names the index in errors). A setting probing more clusters
    /// than the index has is skipped. `progress` hears each point as it is measured, with the
    /// settings done so far. Each setting's measure is a tally: its point is `tally.point`.
    public static func run(engine: QueryEngine, queries: [Float], truth: NeighborList, k: Int, settings: [(name: String, parameters: SearchParameters)],
                           source: String, progress: (Int, RecallCurve.Point) -> Void = { _, _ in }) throws -> [RecallTally] {
        let kc = engine.index.clusterCount, n = truth.count
        // Routing does not depend on the probe rule: score the queries once for every setting,
        // when the scores take at most 1 GiB.
        let routed = settings.count > 1 && n.multipliedReportingOverflow(by: kc).partialValue <= 1 << 28
            && n <= (1 << 28) / max(1, kc) ? engine.route(queries: queries) : nil
        var tallies = [RecallTally]()
        for (i, s) in settings.enumerated() {
            if case .nprobe(let v) = s.parameters.probe, v > kc { continue }
            let clock = Stopwatch()
            let (list, stats) = try engine.search(queries: queries, k: k, parameters: s.parameters, routed: routed)
            let micros = Int((clock.seconds * 1e6).rounded())
            let r = try Recall(results: list, truth: truth, source: source)
            tallies.append(.init(setting: s.name, queries: stats.count, hits1: r.hits1, hits10: r.hits10,
                                 vectors: stats.reduce(0) { $0 + $1.vectors }, bytes: stats.reduce(0) { $0 + $1.bytes },
                                 clusters: stats.reduce(0) { $0 + $1.clusters }, micros: micros))
            progress(i + 1, tallies[tallies.count - 1].point)
        }
        return tallies
    }

}
