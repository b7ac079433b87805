/// Recall curves compared at equal recall: for each curve, the vectors and bytes fetched per
/// query where its recall@1 first reaches each level, read off the curve as `ann-eval sweep`
/// reads the fetch of its summary, and the ratio of that fetch to the one of each baseline.
///
/// A value type built from parsed curves; it reads no file and prints nothing.
public struct CurveComparison: Sendable {
    /// How a fetch was read off a curve.
    public enum Bound: Sendable, Equatable {
        /// Interpolated between the settings around the level, or at a setting that meets it exactly.
        case exact
        /// The curve's first setting is already past the level: the fetch is at most this.
        case atMost
        /// No setting reaches the level: more than the last setting's fetch.
        case atLeast
    }

    /// A fetch read off a curve at one recall@1 level.
    public struct Reading: Sendable, Equatable {
        /// Mean vectors fetched per query.
        public var vectors: Double
        /// Mean bytes fetched per query.
        public var bytes: Double
        public var bound: Bound

        public init(vectors: Double, bytes: Double, bound: Bound) {
            self.vectors = vectors
            self.bytes = bytes
            self.bound = bound
        }
    }

    /// A ratio of two fetches; its bound follows from theirs.
    public struct Ratio: Sendable, Equatable {
        public var value: Double
        public var bound: Bound

        public init(value: Double, bound: Bound) {
            self.value = value
            self.bound = bound
        }
    }

    /// One curve: where it came from, its label and its reading at each of `levels`.
    public struct Entry: Sendable {
        public var source: String
        public var label: String
        public var readings: [Reading]
    }

    /// The recall@1 levels, ascending; `target` is one of them.
    public let levels: [Double]
    /// The level at which the table compares bytes and ratios, and names the fewest.
    public let target: Double
    /// The curves compared, in the order given.
    public let curves: [Entry]
    /// The curves the ratios are taken against, in the order given.
    public let baselines: [Entry]

    /// Reads every curve at `target` and at each of `levels` (in (0, 1]); without baselines, the
    /// first curve is the baseline. `curves` must not be empty.
    public init(curves: [(source: String, curve: RecallCurve)], baselines: [(source: String, curve: RecallCurve)] = [],
                target: Double, levels: [Double] = []) {
        precondition(!curves.isEmpty, "a comparison needs a curve")
        var all = Array(Set(levels + [target])).sorted()
        if all.isEmpty { all = [target] }
        self.levels = all
        self.target = target
        func entry(_ c: (source: String, curve: RecallCurve)) -> Entry {
            Entry(source: c.source, label: c.curve.label, readings: all.map { c.curve.reading(atRecall: $0) })
        }
        self.curves = curves.map(entry)
        self.baselines = (baselines.isEmpty ? [curves[0]] : baselines).map(entry)
    }

    var targetIndex: Int { levels.firstIndex(of: target)! }

    /// The ratio of `curve`'s fetch to `baseline`'s at level `level` (an index into `levels`);
    /// nil where their bounds leave it unknown (one at most, the other at least what it reads).
    public func ratio(_ curve: Entry, to baseline: Entry, at level: Int) -> Ratio? {
        let a = curve.readings[level], b = baseline.readings[level]
        let value = a.vectors / b.vectors
        if a == b { return Ratio(value: 1, bound: .exact) }
        // Dividing by an upper bound gives a lower bound, and the reverse.
        let inverse: Bound = b.bound == .atMost ? .atLeast : b.bound == .atLeast ? .atMost : .exact
        switch (a.bound, inverse) {
        case (.exact, let x), (let x, .exact): return Ratio(value: value, bound: x)
        case (.atMost, .atMost): return Ratio(value: value, bound: .atMost)
        case (.atLeast, .atLeast): return Ratio(value: value, bound: .atLeast)
        default: return nil
        }
    }

    /// The curve that fetches the fewest vectors where it reaches the target; nil when none does.
    public var fewest: Entry? {
        let t = targetIndex
        return curves.filter { $0.readings[t].bound != .atLeast }.min { $0.readings[t].vectors < $1.readings[t].vectors }
    }

    /// A Markdown table: a row per curve with its fetch at each level, the kilobytes at the
    /// target and a column per baseline of the ratio at the target; then which curve fetches
    /// the fewest vectors at the target.
    public func markdown() -> String {
        let t = targetIndex
        var s = "| curve |" + levels.map { " vectors @ \(Self.level($0)) |" }.joined() + " KB @ \(Self.level(target)) |"
            + baselines.map { " vs \(Self.cell($0.label)) |" }.joined() + "\n"
        s += "|---|" + String(repeating: "---:|", count: levels.count + 1 + baselines.count) + "\n"
        for c in curves {
            s += "| \(Self.cell(c.label)) |" + c.readings.map { " \(Self.marked($0.bound, fmt($0.vectors, 1))) |" }.joined()
                + " \(Self.marked(c.readings[t].bound, fmt(c.readings[t].bytes / 1024, 1))) |"
                + baselines.map { b in " \(ratio(c, to: b, at: t).map { Self.marked($0.bound, fmt($0.value, 2) + "×") } ?? "–") |" }.joined() + "\n"
        }
        if curves.contains(where: { $0.readings.contains { $0.bound != .exact } }) {
            s += "\n≤: the curve's first setting is already past that recall; >: no setting reaches it (the last one's fetch).\n"
        }
        if let f = fewest {
            let against = baselines.filter { $0.source != f.source }.compactMap { b in
                ratio(f, to: b, at: t).map { Self.marked($0.bound, fmt($0.value, 2) + "×") + " " + b.label }
            }
            s += "\nFewest vectors per query at recall@1 \(Self.level(target)): \(f.label), \(Self.marked(f.readings[t].bound, fmt(f.readings[t].vectors, 1)))"
                + (against.isEmpty ? "" : " (\(against.joined(separator: ", ")))") + ".\n"
        } else {
            s += "\nNo curve reaches recall@1 \(Self.level(target)).\n"
        }
        return s
    }

    /// Tab-separated values: a row per curve and level with the fetch, its bound (`=`, `<=`
    /// or `>`) and its ratio to each baseline, named by the comment lines above the header.
    public func tsv() -> String {
        var s = ""
        for (i, b) in baselines.enumerated() { s += "# ratio\(i + 1): \(b.label) (\(b.source))\n" }
        s += "file\tlabel\trecall1\tbound\tvectors\tbytes" + baselines.indices.map { "\tratio\($0 + 1)" }.joined() + "\n"
        for c in curves {
            for (i, r) in c.readings.enumerated() {
                let bound = r.bound == .exact ? "=" : r.bound == .atMost ? "<=" : ">"
                s += "\(c.source)\t\(c.label)\t\(Self.level(levels[i]))\t\(bound)\t\(fmt(r.vectors, 1))\t\(fmt(r.bytes, 0))"
                    + baselines.map { "\t" + (ratio(c, to: $0, at: i).map { fmt($0.value, 4) } ?? RecallCurve.notAvailable) }.joined() + "\n"
            }
        }
        return s
    }

    /// A recall level with two decimals, or as many more as it needs (0.90, 0.95, 0.925).
    public static func level(_ v: Double) -> String {
        for digits in 2...6 {
            let s = fmt(v, digits)
            if Double(s) == v { return s }
        }
        return fmt(v, 6)
    }

    static func marked(_ bound: Bound, _ text: String) -> String {
        switch bound {
        case .exact: return text
        case .atMost: return "≤ " + text
        case .atLeast: return "> " + text
        }
    }

    /// A label as a table cell: a pipe would end it.
    static func cell(_ text: String) -> String {
        text.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")
    }
}

extension RecallCurve {
    /// The fetch where recall@1 first reaches `target`, interpolated linearly by recall@1
    /// between the setting before and the first at or above it, as `vectors(atRecall:)`; at the
    /// first setting when that one is past the target, at the last when none reaches it.
    public func reading(atRecall target: Double) -> CurveComparison.Reading {
        guard let hi = points.firstIndex(where: { $0.recall1 >= target }) else {
            let last = points.last
            return .init(vectors: last?.vectors ?? .nan, bytes: last?.bytes ?? .nan, bound: .atLeast)
        }
        let b = points[hi]
        if b.recall1 == target { return .init(vectors: b.vectors, bytes: b.bytes, bound: .exact) }
        if hi == 0 { return .init(vectors: b.vectors, bytes: b.bytes, bound: .atMost) }
        let a = points[hi - 1]
        let t = (target - a.recall1) / max(b.recall1 - a.recall1, 1e-12)
        return .init(vectors: a.vectors + t * (b.vectors - a.vectors), bytes: a.bytes + t * (b.bytes - a.bytes), bound: .exact)
    }
}
