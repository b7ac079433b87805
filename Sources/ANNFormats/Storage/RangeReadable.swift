/// An object on storage whose bytes are read by range: a local file (`LocalFile`, pread(2)),
/// and in the same way an object behind HTTP range requests or in S3. The packed index reads
/// its header, trailer, directory and cluster frames through it and never learns which.
///
/// A single range is one request; `read(ranges:into:)` hands several at once to a backend
/// that can keep many in flight (a remote store answers them concurrently), while a local file
/// reads them one after another.
///
/// Threading: reads may run on several threads at once.
public protocol RangeReadable: Sendable {
    /// How errors name the object: a path, or a URL.
    var name: String { get }
    /// The object's size in bytes, fixed while it is open.
    var size: Int { get }

    /// Reads `range` into the start of `buffer` (at least `range.count` bytes). Returns the
    /// bytes read, fewer than `range.count` only where the object ends before the range does;
    /// the caller decides what a short read means. A failed read throws `ANNError.io` with
    /// target `name` and a message beginning "read failed: ".
    func read(_ range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws -> Int

    /// Reads each range into the buffer at the same position, as `read(_:into:)` does one,
    /// and returns the bytes read per range. The first failure is thrown; which of the other
    /// ranges were read then is unspecified.
    func read(ranges: [Range<Int>], into buffers: [UnsafeMutableRawBufferPointer]) throws -> [Int]

    /// Asks that the next reads come from the device rather than a cache (for cold-cache
    /// measurements; never needed for correctness). A backend without a cache ignores it.
    func dropCache()

    /// Whether ranges read together in one `read(ranges:into:)` cost about one round trip (a
    /// remote store, which has them in flight at once) rather than the sum of their reads (a
    /// local file). Readers of many ranges batch them for such a store.
    var readsConcurrently: Bool { get }

    /// Ranges closer than this many bytes are read with one request (`RangePlan`); nil: every
    /// range is its own read.
    var coalescingGap: Int? { get }

    /// What the reads so far have cost: requests, waves of requests in flight together, bytes,
    /// and time spent waiting for them.
    var statistics: StorageStatistics { get }
}

/// The cost of the reads of one object so far.
public struct StorageStatistics: Sendable, Equatable {
    public var requests = 0
    /// Calls that put requests in flight together (each read of a local file is one).
    public var waves = 0
    public var bytes = 0
    /// Time spent waiting for reads, summed over the threads that waited.
    public var seconds = 0.0

    public init() {}
}

extension RangeReadable {
    public func read(ranges: [Range<Int>], into buffers: [UnsafeMutableRawBufferPointer]) throws -> [Int] {
        precondition(ranges.count == buffers.count)
        return try zip(ranges, buffers).map { try read($0, into: $1) }
    }

    public func dropCache() {}

    public var coalescingGap: Int? { nil }

    public var readsConcurrently: Bool { false }

    /// A backend that does not count its reads reports none.
    public var statistics: StorageStatistics { StorageStatistics() }

    /// The requests that reading `ranges` together takes, after coalescing.
    public func requests(for ranges: [Range<Int>]) -> Int {
        RangePlan.coalesce(ranges, gap: coalescingGap).count
    }
}

/// Ranges grouped into requests: sorted by offset, and merged where the gap between two is at
/// most `gap` bytes (never, for nil). Each request reads `span` and serves its `members`
/// (indices into the ranges given).
public enum RangePlan {
    public struct Request: Equatable, Sendable {
        public var span: Range<Int>
        public var members: [Int]
    }

    public static func coalesce(_ ranges: [Range<Int>], gap: Int?) -> [Request] {
        let order = ranges.indices.filter { !ranges[$0].isEmpty }.sorted { ranges[$0].lowerBound < ranges[$1].lowerBound }
        var out = [Request]()
        for i in order {
            let r = ranges[i]
            if let gap, let last = out.last, r.lowerBound - last.span.upperBound <= gap {
                out[out.count - 1].span = last.span.lowerBound..<max(last.span.upperBound, r.upperBound)
                out[out.count - 1].members.append(i)
            } else {
                out.append(Request(span: r, members: [i]))
            }
        }
        return out
    }
}
