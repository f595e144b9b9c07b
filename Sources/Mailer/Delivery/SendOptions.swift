import Appeals

/// What `send` is asked to do.
public struct SendOptions: Sendable {
    public var campaign: String?
    /// At most this many letters in this run.
    public var limit: Int?
    /// Build and check every due message, send nothing, change nothing.
    public var dryRun = false

    public init(campaign: String? = nil, limit: Int? = nil, dryRun: Bool = false) {
        self.campaign = campaign
        self.limit = limit
        self.dryRun = dryRun
    }
}

/// What a `send` run did.
public struct SendSummary: Sendable, Equatable {
    public var sent = 0
    public var deferred = 0
    public var failed = 0
    /// Letters found in `sending` after a crash and queued again, plus letters whose outcome is unknown.
    public var possibleDuplicates = 0
    /// Messages built and checked by a dry run.
    public var checked = 0
    /// Why the run stopped early, with letters left queued; `nil` when it ran to the end.
    public var stopped: String?
    public var stoppedForConfiguration = false
    /// The unsent letters left at the end of the run, by the reason they wait.
    public var waiting = WaitingLetters()
    /// Letters whose copy to the supporter was refused while the target's own copy went on.
    public var refusedCopies = 0
    /// Targets disabled in this run because their mailbox does not exist.
    public var disabledTargets: [String] = []
    /// The run was stopped early by ``Dispatcher/stop()``: letters not yet handed over went back to the queue.
    public var interrupted = false
    /// The run claimed as many letters as its `limit` allowed (some may then have been held back, unsent).
    public var reachedLimit = false

    public init() {}

    public var attempted: Int { sent + deferred + failed }
}
