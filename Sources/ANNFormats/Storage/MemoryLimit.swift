import Glibc

/// The last word on an allocation that the data justifies but the machine cannot hold (k
/// neighbours for every query, say): it is refused in one line before it is attempted,
/// rather than left to abort the process or to swap.
public enum MemoryLimit {
    /// The machine's physical memory in bytes.
    public static var physicalBytes: Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        return pages > 0 && size > 0 ? pages.multipliedReportingOverflow(by: size).partialValue : Int.max
    }

    /// Throws a usage error when `count` items of `size` bytes would not fit in memory.
    /// `what` says what the memory is for and which options sized it.
    public static func check(count: Int, size: Int, for what: String) throws {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
        let have = physicalBytes
        guard overflow || bytes > have else { return }
        let need = overflow ? "more than \(gib(Int.max))" : gib(bytes)
        throw ANNError.usage("\(what) needs \(need) of memory, more than this machine's \(gib(have))")
    }

    static func gib(_ bytes: Int) -> String {
        let g = Double(bytes) / Double(1 << 30)
        return g >= 10 ? "\(Int(g.rounded())) GiB" : "\(Double(Int(g * 10)) / 10) GiB"
    }
}
