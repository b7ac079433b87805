import ANNKit
import Testing

/// The decompressed content of a cluster frame (ann-formats(5), ANNI): ids delta-coded in four
/// byte planes, then rows (uint8) or byte planes (float32).
@Suite struct ClusterFrameTests {
    func encode(ids: [UInt32], raw: [UInt8], dim: Int, type: ElementType, layout: ClusterFrame.Layout) -> [UInt8] {
        let size = ClusterFrame.byteCount(vectors: ids.count, dim: dim, type: type)
        var out = [UInt8](repeating: 0xAA, count: size)
        ids.withUnsafeBufferPointer { i in
            raw.withUnsafeBytes { v in
                out.withUnsafeMutableBytes {
                    ClusterFrame.encode(ids: i.baseAddress!, vectors: v.baseAddress!, n: ids.count, dim: dim, type: type,
                                        layout: layout, into: $0.baseAddress!)
                }
            }
        }
        return out
    }

    func decode(_ content: [UInt8], n: Int, dim: Int, type: ElementType, layout: ClusterFrame.Layout) -> (ids: [UInt32], floats: [Float]) {
        var ids = [UInt32](repeating: 0, count: n)
        var floats = [Float](repeating: .nan, count: n * dim)
        content.withUnsafeBytes { c in
            ids.withUnsafeMutableBufferPointer { i in
                floats.withUnsafeMutableBufferPointer { f in
                    ClusterFrame.decode(c.baseAddress!, n: n, dim: dim, type: type, layout: layout, ids: i.baseAddress!, floats: f.baseAddress!)
                }
            }
        }
        return (ids, floats)
    }

    /// Ascending ids with small and huge gaps, from 0 to near UInt32.max.
    static let ids: [UInt32] = [0, 1, 2, 300, 70_000, 70_001, 16_777_216, 3_000_000_000, 4_294_967_294]

    @Test func layoutsByElementType() {
        #expect(ClusterFrame.Layout.preferred(for: .uint8) == .rows)
        #expect(ClusterFrame.Layout.preferred(for: .float32) == .bytePlanes)
        #expect(ClusterFrame.Layout.rows.rawValue == 1 && ClusterFrame.Layout.bytePlanes.rawValue == 2)
        #expect(ClusterFrame.byteCount(vectors: 10, dim: 128, type: .uint8) == 10 * (4 + 128))
        #expect(ClusterFrame.byteCount(vectors: 10, dim: 128, type: .float32) == 10 * (4 + 512))
        #expect(ClusterFrame.byteCount(vectors: 0, dim: 128, type: .float32) == 0)
    }

    /// The bytes of a tiny frame, written out from ann-formats(5).
    @Test func bytesAsSpecified() {
        // ids 3, 5, 300: deltas 3, 2, 295 = 0x127.
        let u8 = encode(ids: [3, 5, 300], raw: [10, 11, 20, 21, 30, 31], dim: 2, type: .uint8, layout: .rows)
        #expect(u8 == [3, 2, 0x27, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 11, 20, 21, 30, 31])
        // One vector (1.0, -2.0): bit patterns 3F800000 and C0000000, byte b of every value in turn.
        let raw = Encode.floats([1.0, -2.0])
        let planes = encode(ids: [7], raw: raw, dim: 2, type: .float32, layout: .bytePlanes)
        #expect(planes == [7, 0, 0, 0, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x3F, 0xC0])
        let rows = encode(ids: [7], raw: raw, dim: 2, type: .float32, layout: .rows)
        #expect(rows == [7, 0, 0, 0] + raw)
    }

    @Test func uint8RowsRoundTrip() {
        let dim = 7, n = Self.ids.count
        var rng = RandomGenerator(seed: 5)
        let raw = (0..<(n * dim)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let content = encode(ids: Self.ids, raw: raw, dim: dim, type: .uint8, layout: .rows)
        // Rows: the vectors as given, after the ids.
        #expect(Array(content[(4 * n)...]) == raw)
        let back = decode(content, n: n, dim: dim, type: .uint8, layout: .rows)
        #expect(back.ids == Self.ids)
        #expect(back.floats == raw.map(Float.init))
    }

    /// Every float32 survives bit for bit, signed zeros, subnormals and extremes included.
    @Test(arguments: [ClusterFrame.Layout.bytePlanes, .rows])
    func float32RoundTrip(_ layout: ClusterFrame.Layout) {
        let dim = 5, n = Self.ids.count
        var values: [Float] = [-0.0, 0, .leastNonzeroMagnitude, -.leastNormalMagnitude, .greatestFiniteMagnitude,
                               -.greatestFiniteMagnitude, 1, -1, .ulpOfOne, 3.14159]
        var rng = RandomGenerator(seed: 9)
        while values.count < n * dim { values.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0xBF7F_FFFF)) }
        let content = encode(ids: Self.ids, raw: Encode.floats(values), dim: dim, type: .float32, layout: layout)
        let back = decode(content, n: n, dim: dim, type: .float32, layout: layout)
        #expect(back.ids == Self.ids)
        #expect(back.floats.map(\.bitPattern) == values.map(\.bitPattern))
        if layout == .bytePlanes {
            // The last plane holds the sign-and-exponent bytes of all values together.
            let values4 = n * dim
            #expect(Array(content[(4 * n + 3 * values4)...]) == values.map { UInt8($0.bitPattern >> 24) })
        }
    }
}
