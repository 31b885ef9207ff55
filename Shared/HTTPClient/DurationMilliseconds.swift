extension Duration {
    /// Whole milliseconds, rounded up and at least 1: libcurl reads a timeout of 0 as "no timeout",
    /// so an almost-spent budget must still become a (tiny) limit, never an unlimited one.
    var curlTimeoutMilliseconds: Int {
        let (seconds, attoseconds) = components
        if seconds >= 1_000_000_000 { return 1_000_000_000_000 }
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 1 }
        let perMillisecond: Int64 = 1_000_000_000_000_000
        let partial = attoseconds / perMillisecond + (attoseconds % perMillisecond > 0 ? 1 : 0)
        return max(1, Int(seconds) * 1000 + Int(partial))
    }
}
