import Glibc

/// Facts about the machine the tools run on.
public enum Machine {
    /// The cores online: how many workers the parallel parts start unless a tool's `--threads`
    /// says otherwise.
    public static let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}
