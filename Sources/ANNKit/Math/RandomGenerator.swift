import Glibc

/// xoshiro256** seeded through SplitMix64: fast, and the same stream for the same seed on
/// every machine, which is what makes runs reproducible.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }

    /// A uniform integer in 0..<n without modulo bias.
    public mutating func below(_ n: Int) -> Int { Int.random(in: 0..<n, using: &self) }

    /// A uniform float in [0, 1).
    public mutating func unit() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Two independent standard normal samples (both outputs of one Box-Muller draw).
    public mutating func gaussianPair() -> (Float, Float) {
        let u1 = max(Double(next() >> 11) * 0x1p-53, 1e-300)
        let u2 = Double(next() >> 11) * 0x1p-53
        let r = (-2 * _log(u1)).squareRoot()
        return (Float(r * _cos(2 * .pi * u2)), Float(r * Glibc.sin(2 * .pi * u2)))
    }

    /// A standard normal sample (Box-Muller).
    public mutating func gaussian() -> Float {
        let u1 = max(Double(next() >> 11) * 0x1p-53, 1e-300)
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * .pi * u2))
    }
}

@inline(__always) private func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
