import Glibc

/// The learned part of the PQ router: a one-hidden-layer network that turns what the codes say
/// about one cluster for one query (`PQRouter.features`) into a logit; a softmax over the
/// clusters a query scores gives its probabilities. Tiny (hundreds of weights) and shared by
/// every cluster, so it learns how far PQ distances can be trusted, not where clusters lie:
/// that is what carries over to queries unlike the training ones.
public struct CandidateScorer: Sendable {
    public static let featureCount = 13

    public var hidden: Int
    /// Feature standardisation: x̂ = (x − mean) · scale.
    public var mean: [Float]
    public var scale: [Float]
    /// `hidden × featureCount` row-major, then the biases and the output weights.
    public var w1: [Float], b1: [Float], w2: [Float]

    public init(hidden: Int, mean: [Float], scale: [Float], seed: UInt64) {
        let f = Self.featureCount
        self.hidden = hidden
        self.mean = mean
        self.scale = scale
        var rng = RandomGenerator(seed: seed)
        w1 = (0..<(hidden * f)).map { _ in rng.gaussian() * (1 / Float(f)).squareRoot() }
        b1 = [Float](repeating: 0, count: hidden)
        w2 = (0..<hidden).map { _ in rng.gaussian() * (1 / Float(hidden)).squareRoot() }
    }

    public init(hidden: Int, mean: [Float], scale: [Float], w1: [Float], b1: [Float], w2: [Float]) {
        self.hidden = hidden
        self.mean = mean
        self.scale = scale
        self.w1 = w1
        self.b1 = b1
        self.w2 = w2
    }

    /// Floats the scorer stores: mean, scale, W1, b1, w2.
    public static func floatCount(hidden h: Int) -> Int { 2 * featureCount + h * featureCount + 2 * h }

    public var arrays: [[Float]] { [mean, scale, w1, b1, w2] }

    /// The logit of one feature row; `act` (hidden wide) receives the hidden activations.
    @inline(__always)
    public func logit(_ x: UnsafePointer<Float>, act: UnsafeMutablePointer<Float>) -> Float {
        let f = Self.featureCount
        var out: Float = 0
        for h in 0..<hidden {
            var a = b1[h]
            for j in 0..<f { a += w1[h * f + j] * (x[j] - mean[j]) * scale[j] }
            a = max(a, 0)
            act[h] = a
            out += w2[h] * a
        }
        return out
    }

    /// Standardisation from training rows (`n × featureCount`): each feature's mean and the
    /// inverse of its spread (1 for a constant feature).
    public static func standardisation(_ rows: UnsafePointer<Float>, n: Int) -> (mean: [Float], scale: [Float]) {
        let f = featureCount
        var mean = [Double](repeating: 0, count: f), sq = [Double](repeating: 0, count: f)
        for i in 0..<n { for j in 0..<f { let v = Double(rows[i * f + j]); mean[j] += v; sq[j] += v * v } }
        let nn = Double(max(n, 1))
        var scale = [Float](repeating: 1, count: f)
        for j in 0..<f {
            mean[j] /= nn
            let v = sq[j] / nn - mean[j] * mean[j]
            if v > 1e-12 { scale[j] = Float(1 / v.squareRoot()) }
        }
        return (mean.map(Float.init), scale)
    }
}
