/// Sizes computed from numbers read from files, where an overflow must be refused rather than
/// trap or wrap.
public enum CheckedArithmetic {
    /// The sum of the products of `terms` (each a list of factors), or nil on overflow.
    public static func sum(ofProducts terms: [[Int]]) -> Int? {
        var total = 0
        for factors in terms {
            var p = 1
            for f in factors {
                let (v, o) = p.multipliedReportingOverflow(by: f)
                if o { return nil }
                p = v
            }
            let (t, o) = total.addingReportingOverflow(p)
            if o { return nil }
            total = t
        }
        return total
    }
}
