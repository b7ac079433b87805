/// How a querying tool asks the C allocator to hold memory.
enum AllocatorPolicy {
    /// glibc raises its mmap threshold to the size of each large block freed, so after a model
    /// or a batch's buffers are released, later large buffers come from the heap and stay
    /// resident after use. A fixed threshold keeps blocks of 128 KiB and more in their own
    /// mappings, returned on free, so the process holds what it uses: the index directory,
    /// the router's recorded footprint and the batch in flight.
    static func returnLargeBlocks() {
        _ = glibcMallopt(mmapThreshold, 128 << 10)
    }

    /// M_MMAP_THRESHOLD of <malloc.h>, which the Glibc module does not export.
    private static let mmapThreshold: Int32 = -3
}

@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
