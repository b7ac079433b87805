/// The k best (distance, id) pairs of each of many queries, as one max-heap per query in flat
/// storage: the root is the worst kept neighbour, so a candidate is tested against one number.
/// Order is by distance, then by the smaller id, so results never depend on arrival order.
///
/// Threading: distinct queries may be updated from different threads at once; one query
/// must not be.
public final class NeighborHeaps {
    public let count: Int
    public let k: Int
    private let dist: UnsafeMutablePointer<Float>
    private let ids: UnsafeMutablePointer<UInt32>
    private let sizes: UnsafeMutablePointer<Int32>

    public init(count: Int, k: Int) {
        self.count = count
        self.k = k
        dist = .allocate(capacity: count * k)
        ids = .allocate(capacity: count * k)
        sizes = .allocate(capacity: count)
        sizes.initialize(repeating: 0, count: count)
    }

    deinit {
        dist.deallocate()
        ids.deallocate()
        sizes.deallocate()
    }

    public func reset() { sizes.update(repeating: 0, count: count) }

    @inline(__always) public func size(_ q: Int) -> Int { Int(sizes[q]) }

    /// The distance a candidate must beat to enter query `q`'s list (+inf until it is full).
    @inline(__always) public func bound(_ q: Int) -> Float { sizes[q] < Int32(k) ? .infinity : dist[q * k] }

    @inline(__always)
    static func worse(_ da: Float, _ ia: UInt32, _ db: Float, _ ib: UInt32) -> Bool {
        da > db || (da == db && ia > ib)
    }

    /// Offers a candidate; `unique` first checks the id is not kept already (a vector stored
    /// in several clusters must count once). Returns whether it was kept.
    @inline(__always) @discardableResult
    public func offer(_ q: Int, _ d: Float, _ id: UInt32, unique: Bool = false) -> Bool {
        let hd = dist + q * k, hi = ids + q * k
        var size = Int(sizes[q])
        if size == k && !Self.worse(hd[0], hi[0], d, id) { return false }
        if unique {
            for j in 0..<size where hi[j] == id { return false }
        }
        if size < k {
            BoundedHeap.push(d, id, keys: hd, values: hi, size: &size, worse: Self.worse)
            sizes[q] = Int32(size)
            return true
        }
        BoundedHeap.replaceTop(d, id, keys: hd, values: hi, size: size, worse: Self.worse)
        return true
    }

    /// Folds another set of heaps for the same queries into this one (ids counted once).
    public func merge(_ other: NeighborHeaps) {
        precondition(other.count == count && other.k == k)
        for q in 0..<count {
            for j in 0..<other.size(q) { offer(q, other.dist[q * k + j], other.ids[q * k + j], unique: true) }
        }
    }

    /// Query `q`'s neighbours, nearest first.
    public func sorted(_ q: Int) -> [(distance: Float, id: UInt32)] {
        var row = (0..<size(q)).map { (distance: dist[q * k + $0], id: ids[q * k + $0]) }
        row.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.id < $1.id) }
        return row
    }

    /// The lists as a `NeighborList` (distances converted to the metric's external form);
    /// short rows are padded with `NeighborList.noID`.
    public func neighborList(metric: Metric) -> NeighborList {
        var outIDs = [UInt32](repeating: NeighborList.noID, count: count * k)
        var outDist = [Float](repeating: metric.isSimilarity ? -.infinity : .infinity, count: count * k)
        for q in 0..<count {
            for (j, e) in sorted(q).enumerated() {
                outIDs[q * k + j] = e.id
                outDist[q * k + j] = metric.external(e.distance)
            }
        }
        return NeighborList(k: k, metric: metric, ids: outIDs, distances: outDist)
    }

    /// For k = 1: query `q`'s nearest, if any.
    @inline(__always) public func first(_ q: Int) -> (distance: Float, id: UInt32)? {
        sizes[q] > 0 ? (dist[q * k], ids[q * k]) : nil
    }

    /// Screens one row of sgemm output and offers the survivors: `row[j] + norms[j]` (norms
    /// may be nil) is a lower bound, shifted by `shift`, of candidate j's distance; survivors
    /// are re-measured by `measure(j)` and offered with id `id(j)`. Returns how many were
    /// measured. 16 candidates are tested at a time, and only the set bits visited.
    @inline(__always)
    public func screen(_ q: Int, row: UnsafePointer<Float>, norms: UnsafePointer<Float>?, n: Int, shift: Float, slack: Float,
                       unique: Bool = false, measure: (Int) -> Float, id: (Int) -> UInt32) -> Int {
        var measured = 0
        var threshold = bound(q) - shift + slack
        var j = 0
        let lanes = SIMD16<UInt32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        while j < n {
            var bits: UInt32
            if n - j >= 16 {
                var v = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD16<Float>.self)
                if let norms { v += UnsafeRawPointer(norms + j).loadUnaligned(as: SIMD16<Float>.self) }
                bits = (SIMD16<UInt32>(repeating: 1) &<< lanes)
                    .replacing(with: 0, where: .!(v .< SIMD16<Float>(repeating: threshold))).wrappedSum()
            } else {
                bits = (1 << UInt32(n - j)) - 1
            }
            while bits != 0 {
                let jj = j + bits.trailingZeroBitCount
                bits &= bits - 1
                guard row[jj] + (norms?[jj] ?? 0) < threshold else { continue }
                measured += 1
                if offer(q, measure(jj), id(jj), unique: unique) { threshold = bound(q) - shift + slack }
            }
            j += 16
        }
        return measured
    }
}
