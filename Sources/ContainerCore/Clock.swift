#if canImport(Glibc)
import Glibc
#endif

/// RFC 3339 timestamps with nanoseconds, as runc writes `created` and log times,
/// without loading Foundation's date formatting on the hot path.
package enum Clock {
    package static func rfc3339Now() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = time_t(ts.tv_sec)
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int32, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        let nanos = String(ts.tv_nsec)
        let frac = String(repeating: "0", count: 9 - nanos.count) + nanos
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(frac)Z"
    }
}
