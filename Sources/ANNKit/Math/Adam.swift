import Glibc

/// Adam (with AdamW's decoupled weight decay) over several parameter arrays, one moment pair
/// per array. Large arrays are updated in fixed parts on all cores; every element's update is
/// independent, so the result does not depend on the thread count.
public struct Adam {
    private var m: [[Float]]
    private var v: [[Float]]
    public private(set) var step = 0

    public init(sizes: [Int]) {
        m = sizes.map { [Float](repeating: 0, count: $0) }
        v = sizes.map { [Float](repeating: 0, count: $0) }
    }

    /// Starts the next step (bias corrections depend on it).
    public mutating func advance() { step += 1 }

    public mutating func update(_ w: inout [Float], gradient g: [Float], slot: Int, learningRate: Float, weightDecay: Float = 0) {
        let b1: Float = 0.9, b2: Float = 0.999, eps: Float = 1e-8
        let c1 = 1 - Float(Glibc.pow(0.9, Double(step))), c2 = 1 - Float(Glibc.pow(0.999, Double(step)))
        let lr = learningRate / c1, wd = weightDecay * learningRate
        let invC2 = 1 / c2
        m[slot].withUnsafeMutableBufferPointer { mp in
            v[slot].withUnsafeMutableBufferPointer { vp in
                w.withUnsafeMutableBufferPointer { wp in
                    g.withUnsafeBufferPointer { gp in
                        let mm = mp.baseAddress!, vv = vp.baseAddress!, ww = wp.baseAddress!, gg = gp.baseAddress!
                        let n = wp.count, parts = n >= 1 << 16 ? 8 : 1
                        Parallel.forEach(parts) { t in
                            for i in (n * t / parts)..<(n * (t + 1) / parts) {
                                let gi = gg[i]
                                let mi = b1 * mm[i] + (1 - b1) * gi
                                let vi = b2 * vv[i] + (1 - b2) * gi * gi
                                mm[i] = mi
                                vv[i] = vi
                                ww[i] -= lr * mi / ((vi * invC2).squareRoot() + eps) + wd * ww[i]
                            }
                        }
                    }
                }
            }
        }
    }
}
