/**
 * The decision notifier port: how a decision taken on one instance wakes the
 * WaitToken streams held by every instance. Delivery is best effort; the
 * waiting side re-checks the store periodically, so a lost message costs
 * latency, never correctness.
 */

/** Stops delivery to one listener. */
export type Unsubscribe = () => void;

/**
 * Messages are keyed by a code's routing tag (`CodeHandle.tag`), which a
 * device code and its user code share: the deciding side knows the user code,
 * the waiting side the device code. Tags are short, so unrelated requests can
 * share one; a listener treats a message as "re-check now", never as a result.
 */
export interface DecisionNotifier {
  /** Announces that a request with this tag was decided. Never throws: delivery is best effort. */
  publish(tag: string): Promise<void>;
  /**
   * Calls `listener` on every later `publish(tag)`, from any instance. Resolves
   * once delivery is set up, or once it gave up waiting for that (a bounded
   * wait: callers re-check the store anyway).
   */
  subscribe(tag: string, listener: () => void): Promise<Unsubscribe>;
  /** Releases connections. */
  close(): Promise<void>;
}
