extension Metric {
    /// Brings `n` rows of `d` floats (queries, base vectors, training vectors) into the form
    /// this metric compares them in: unit length for cos, which compares directions alone;
    /// unchanged for l2 and ip. Every vector the library takes in for cos passes here, so that
    /// the tools cannot disagree on it.
    @inline(__always)
    public func prepare(_ rows: UnsafeMutablePointer<Float>, n: Int, d: Int) {
        if self == .cos { Kernels.normalizeRows(rows, n: n, d: d) }
    }

    /// `prepare` over a whole array of rows `d` wide.
    public func prepare(_ rows: inout [Float], d: Int) {
        guard self == .cos, d > 0 else { return }
        rows.withUnsafeMutableBufferPointer { r in
            if let base = r.baseAddress { prepare(base, n: r.count / d, d: d) }
        }
    }
}
