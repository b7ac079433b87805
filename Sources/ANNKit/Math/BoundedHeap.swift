/// The one bounded max-heap: keeps the best of a stream of (key, value) pairs in caller
/// storage (parallel arrays, the root at 0 the worst kept), so that a candidate is tested
/// against one number. `worse(ka, va, kb, vb)` orders the pairs; the neighbour lists, the
/// probe ranking and the PQ router's candidates each bring their own. Allocates nothing.
enum BoundedHeap {
    /// Adds a pair to a heap of `size` pairs that has room for it; `size` grows by one.
    @inline(__always)
    static func push<K, V>(_ key: K, _ value: V, keys: UnsafeMutablePointer<K>, values: UnsafeMutablePointer<V>, size: inout Int,
                           worse: (K, V, K, V) -> Bool) {
        var i = size
        size += 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard worse(key, value, keys[parent], values[parent]) else { break }
            keys[i] = keys[parent]; values[i] = values[parent]
            i = parent
        }
        keys[i] = key; values[i] = value
    }

    /// Replaces the root (the worst kept pair) of a heap of `size` pairs by one the caller
    /// found better, and restores the order.
    @inline(__always)
    static func replaceTop<K, V>(_ key: K, _ value: V, keys: UnsafeMutablePointer<K>, values: UnsafeMutablePointer<V>, size: Int,
                                 worse: (K, V, K, V) -> Bool) {
        var i = 0
        while true {
            let l = 2 * i + 1
            if l >= size { break }
            var c = l
            if l + 1 < size && worse(keys[l + 1], values[l + 1], keys[l], values[l]) { c = l + 1 }
            guard worse(keys[c], values[c], key, value) else { break }
            keys[i] = keys[c]; values[i] = values[c]
            i = c
        }
        keys[i] = key; values[i] = value
    }

    /// Offers a pair to a heap of at most `capacity` pairs: pushed while there is room, else
    /// it replaces the root when the root is worse. Returns whether it was kept.
    @inline(__always) @discardableResult
    static func offer<K, V>(_ key: K, _ value: V, keys: UnsafeMutablePointer<K>, values: UnsafeMutablePointer<V>, size: inout Int,
                            capacity: Int, worse: (K, V, K, V) -> Bool) -> Bool {
        if size < capacity {
            push(key, value, keys: keys, values: values, size: &size, worse: worse)
            return true
        }
        guard capacity > 0 && worse(keys[0], values[0], key, value) else { return false }
        replaceTop(key, value, keys: keys, values: values, size: size, worse: worse)
        return true
    }
}
