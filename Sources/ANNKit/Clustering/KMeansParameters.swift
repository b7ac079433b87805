/// How ann-kmeans clusters: kept apart from the algorithm, as FAISS's ClusteringParameters.
public struct KMeansParameters: Sendable {
    public enum Initialization: String, CaseIterable, Sendable {
        /// k-means++ seeding over a subsample of at most `plusPlusSampleFactor`·K vectors.
        case kmeansPlusPlus = "kmeans++"
        /// K distinct training vectors chosen uniformly.
        case random
    }

    public static let defaultIterations = 20
    public static let defaultSeed: UInt64 = 1
    // Random seeding, as FAISS: on SIFT-DEB (K = 1024) its clusters fetch 7,760 vectors per
    // query at recall@1 0.90 against 9,444 after k-means++, whose clusters are less even.
    public static let defaultInitialization = Initialization.random

    public var k: Int
    public var iterations = defaultIterations
    public var seed = defaultSeed
    public var initialization = defaultInitialization
    public var metric = Metric.l2
    /// k-means++ draws its seeds from at most this many vectors per centroid: enough for good
    /// seeds, and it keeps seeding a small part of the run.
    public var plusPlusSampleFactor = 16

    public init(k: Int) { self.k = k }
}
