/// How far SPANN's replication copies a vector (see `Replication`): into at most `replicas`
/// clusters, home included, each within (1 + `epsilon`) of the nearest one's distance.
public struct ReplicationParameters: Sendable, Equatable {
    /// SPANN's setting: a vector in up to 8 clusters, those within 10% of the nearest.
    public static let defaultReplicas = 8
    public static let defaultEpsilon: Float = 0.1

    public var replicas: Int
    public var epsilon: Float

    public init(replicas: Int = defaultReplicas, epsilon: Float = defaultEpsilon) {
        self.replicas = replicas
        self.epsilon = epsilon
    }
}
