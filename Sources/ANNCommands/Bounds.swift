import ArgumentParser

/// The upper bounds of options that size memory, checked in `validate()` before anything is
/// read, and stated in the man pages. Within them, what a tool allocates is sized from data
/// that has arrived; `MemoryLimit` refuses the rare request the machine cannot hold.
enum Bounds {
    /// -k: neighbours per query, as many as a neighbour list can hold (its header's k field
    /// is bounded like a dimension, 2^20).
    static let neighbors = 1 << 20
    /// --batch of ann-query: queries searched together.
    static let batch = 1 << 20
    /// --threads: each worker keeps its own buffers.
    static let threads = 256
    /// ann-kmeans -k and --sample: cluster numbers and vector ids are 32-bit.
    static let clusters = Int(UInt32.max)
    /// ann-pack --memory, in MiB (1 TiB).
    static let memoryMiB = 1 << 20
    /// ann-train --batch: queries per step; each step holds batch × clusters scores.
    static let trainingBatch = 65536
    /// ann-train --hidden: each hidden layer holds hidden² weights (and Adam's two moments).
    static let hidden = 8192

    static func checkNeighbors(_ k: Int) throws {
        if k < 1 || k > Bounds.neighbors { throw ValidationError("-k must be at least 1 and at most \(Bounds.neighbors)") }
    }

    static func checkThreads(_ threads: Int) throws {
        if threads < 1 || threads > Bounds.threads { throw ValidationError("--threads must be at least 1 and at most \(Bounds.threads)") }
    }
}
