extension Metric {
    /// The metric of an operation on `source`: the one the file recorded, unless the request
    /// names another (refused), else the one requested, else l2.
    public static func resolve(recorded: Metric?, requested: Metric?, source: String) throws -> Metric {
        if let r = recorded, let q = requested, r != q {
            throw ANNError.metricMismatch(source: source, what: nil, recorded: r, expected: q, against: nil)
        }
        return recorded ?? requested ?? .l2
    }
}
