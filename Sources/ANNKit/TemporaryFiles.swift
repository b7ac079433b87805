import Glibc

/// The temporary outputs in flight, kept as C strings so that a signal handler can unlink
/// them without allocating (the zstd(1) behaviour on Ctrl-C).
public enum TemporaryFiles {
    private static let capacity = 16
    nonisolated(unsafe) private static var slots = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
    nonisolated(unsafe) private static var initialized = false

    static func register(_ path: String) {
        if !initialized {
            slots.initialize(repeating: nil, count: capacity)
            initialized = true
        }
        for i in 0..<capacity where slots[i] == nil {
            slots[i] = strdup(path)
            return
        }
    }

    static func unregister(_ path: String) {
        guard initialized else { return }
        for i in 0..<capacity {
            if let s = slots[i], String(cString: s) == path {
                slots[i] = nil
                free(s)
            }
        }
    }

    /// Unlinks every registered file; safe to call from a signal handler.
    public static func removeAll() {
        guard initialized else { return }
        for i in 0..<capacity {
            if let s = slots[i] { unlink(s) }
        }
    }
}
