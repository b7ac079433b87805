/// A recall-versus-fetch curve: one point per setting of the sweep, and the fetch at a target
/// recall interpolated between the two points that bracket it.
public struct RecallCurve: Sendable {
    public struct Point: Sendable {
        public var setting: String
        public var recall1: Double
        /// nil when the ground truth has fewer than 10 neighbours per query (see `Recall.at10`),
        /// written as `n/a`.
        public var recall10: Double?
        public var vectors: Double
        public var bytes: Double
        public var clusters: Double
        public var queriesPerSecond: Double

        public init(setting: String, recall1: Double, recall10: Double?, vectors: Double, bytes: Double, clusters: Double, queriesPerSecond: Double) {
            self.setting = setting
            self.recall1 = recall1
            self.recall10 = recall10
            self.vectors = vectors
            self.bytes = bytes
            self.clusters = clusters
            self.queriesPerSecond = queriesPerSecond
        }
    }

    public var label: String
    public var points: [Point]

    public init(label: String, points: [Point]) {
        self.label = label
        self.points = points
    }

    public static let header = "setting\trecall1\trecall10\tvectors\tbytes\tclusters\tqps"
    /// What stands for a recall that is not defined.
    public static let notAvailable = "n/a"

    /// Mean vectors fetched where recall@1 first reaches `target`, interpolated linearly
    /// between the last point below and the first at or above it; nil if never reached.
    public func vectors(atRecall target: Double) -> (vectors: Double, between: (String, String)?)? {
        guard let hi = points.firstIndex(where: { $0.recall1 >= target }) else { return nil }
        if hi == 0 || points[hi].recall1 == target { return (points[hi].vectors, nil) }
        let a = points[hi - 1], b = points[hi]
        let t = (target - a.recall1) / max(b.recall1 - a.recall1, 1e-12)
        return (a.vectors + t * (b.vectors - a.vectors), (a.setting, b.setting))
    }

    public func tsv() -> String {
        var s = "# label: \(label)\n\(Self.header)\n"
        for p in points {
            s += "\(p.setting)\t\(fmt(p.recall1, 4))\t\(p.recall10.map { fmt($0, 4) } ?? Self.notAvailable)\t\(fmt(p.vectors, 1))\t\(fmt(p.bytes, 0))\t\(fmt(p.clusters, 2))\t\(fmt(p.queriesPerSecond, 0))\n"
        }
        return s
    }

    /// Parses what `tsv()` writes.
    public static func parse(_ text: String, source: String) throws -> RecallCurve {
        var label = source
        var points = [Point]()
        var sawHeader = false
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            if line.hasPrefix("# label: ") { label = String(line.dropFirst(9)); continue }
            if line.hasPrefix("#") { continue }
            if !sawHeader {
                guard line == header else { throw ANNError.badData(source: source, message: "not a recall curve (line \(i + 1) is not its header)") }
                sawHeader = true
                continue
            }
            let f = line.split(separator: "\t").map(String.init)
            // A recall10 of n/a parses as .some(nil); anything else unreadable as nil.
            func optionalNumber(_ s: String) -> Double?? { s == notAvailable ? .some(nil) : Double(s).map { .some($0) } }
            guard f.count == 7, let r1 = Double(f[1]), let r10 = optionalNumber(f[2]),
                  let v = Double(f[3]), let b = Double(f[4]), let c = Double(f[5]), let qps = Double(f[6]) else {
                throw ANNError.badData(source: source, message: "line \(i + 1): expected 7 numeric fields (recall10 may be \(notAvailable))")
            }
            points.append(Point(setting: f[0], recall1: r1, recall10: r10, vectors: v, bytes: b, clusters: c, queriesPerSecond: qps))
        }
        guard !points.isEmpty else { throw ANNError.badData(source: source, message: "a recall curve with no points") }
        return RecallCurve(label: label, points: points)
    }
}

/// Fixed-point formatting without Foundation.
func fmt(_ v: Double, _ digits: Int) -> String {
    guard v.isFinite else { return "\(v)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let r = (abs(v) * scale).rounded()
    let whole = Int(r / scale)
    let frac = Int(r - Double(whole) * scale)
    var f = String(frac)
    while f.count < digits { f = "0" + f }
    return (v < 0 && r != 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + f : "")
}
