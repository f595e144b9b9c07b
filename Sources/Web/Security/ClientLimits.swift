import Foundation
import Synchronization

/// Counts requests per key (a client address, an action) in fixed windows, in this process's memory: each
/// `serve` instance counts its own clients. The per-address limit on confirmation emails is in the database.
final class ClientLimits: Sendable {
    private struct Window {
        var start: Date
        var count: Int
    }

    private let windows = Mutex<[String: Window]>([:])
    private let window: TimeInterval

    init(window: TimeInterval) {
        self.window = window
    }

    /// Counts one request for `key`; `false` when it is over `limit` in the current window. `limit` 0: no limit.
    func admit(_ key: String, limit: Int, now: Date = Date()) -> Bool {
        guard limit > 0 else { return true }
        let window = self.window
        return windows.withLock { windows in
            // Old windows are dropped now and then, so memory stays bounded by the clients of one window.
            if windows.count > 50_000 { windows = windows.filter { now.timeIntervalSince($0.value.start) < window } }
            var current = windows[key] ?? Window(start: now, count: 0)
            if now.timeIntervalSince(current.start) >= window { current = Window(start: now, count: 0) }
            current.count += 1
            windows[key] = current
            return current.count <= limit
        }
    }
}
