/// What k-means reports while it runs; the command layer decides what to draw.
public enum KMeansEvent: Sendable {
    case seeded(seconds: Double)
    /// One Lloyd iteration: the objective (sum of distances to the nearest centroid before
    /// the update; for ip/cos the negated sum of similarities), its time, and empty clusters
    /// repaired by the update.
    case iteration(index: Int, of: Int, objective: Double, seconds: Double, repaired: Int)
}
