/**
 * Which cost profile the stages see: the configured one, a switch asked for
 * during a cycle (it takes effect when the next cycle begins, so a cycle runs
 * with one profile throughout), and the control loop's override, which
 * hands the stages an adjusted copy of the active profile.
 */
import type { Config, ProfileConfig } from '../config/schema.js';
import { unknownProfile } from '../config/unknown-profile.js';
import type { Logger } from '../core/log.js';

export type ProfileOverride = (name: string, p: ProfileConfig) => ProfileConfig;

export class ProfileSelection {
  private name: string;
  private profile: ProfileConfig;
  private pending?: string;
  /** the control loop's knob (undefined: the profile as configured) */
  override?: ProfileOverride;

  /** Throws NrdotError(UNKNOWN_PROFILE) naming `--profile` when `name` is not configured. */
  constructor(
    private readonly config: Config,
    name: string,
    private readonly logger: Logger,
  ) {
    const p = config.profiles[name];
    if (!p) throw unknownProfile(name, config, '--profile');
    this.name = name;
    this.profile = p;
  }

  /** The profile in force from the next cycle on. */
  get active(): string {
    return this.pending ?? this.name;
  }

  /** Profiles that can be switched to. */
  get names(): string[] {
    return Object.keys(this.config.profiles);
  }

  /** Switch from the next cycle on. Throws NrdotError(UNKNOWN_PROFILE). */
  set(name: string): { before: string; after: string } {
    if (!this.config.profiles[name]) throw unknownProfile(name, this.config, '');
    const before = this.active;
    this.pending = name === this.name ? undefined : name;
    return { before, after: name };
  }

  /** When a cycle begins: a pending switch takes effect. */
  begin(): void {
    if (this.pending === undefined) return;
    this.logger.info({ from: this.name, to: this.pending }, 'profile switched');
    this.name = this.pending;
    this.profile = this.config.profiles[this.pending]!;
    this.pending = undefined;
  }

  /** The profile the stages of this cycle see. */
  current(): { profileName: string; profile: ProfileConfig } {
    const profile = this.override ? this.override(this.name, this.profile) : this.profile;
    return { profileName: this.name, profile };
  }
}
