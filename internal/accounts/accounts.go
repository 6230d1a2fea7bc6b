// Package accounts owns the people who use the dashboard: users (e-mail and
// an argon2id password hash), their memberships of projects, server-side
// sessions and the one-time set-up addresses that create the first owner.
//
// A session cookie carries only a random token; the database keeps its
// SHA-256, so a copy of the database cannot be replayed as a login. Each
// session has its own CSRF token, compared on every state-changing form.
// Accounts never authenticate /api requests: those need an API key.
package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
)

// Roles of a membership.
const (
	RoleOwner  = "owner"
	RoleMember = "member"
)

// Lifetimes.
const (
	// SessionTTL is how long a login lasts.
	SessionTTL = 7 * 24 * time.Hour
	// SetupTTL is how long a set-up address stays usable.
	SetupTTL = 24 * time.Hour
	// MinPassword and MaxPassword bound a password's length in bytes.
	MinPassword = 8
	MaxPassword = 256
)

// User is a person who can log in.
type User struct {
	ID        string
	Email     string
	CreatedAt time.Time
}

// Membership is one project a user belongs to.
type Membership struct {
	Project projects.Project
	Role    string
}

// Session is a login: whose, which project it looks at, its CSRF token.
type Session struct {
	ID        string // SHA-256 of the cookie token
	User      User
	CSRF      string
	ProjectID string // the project last switched to; "" for the first membership
	ExpiresAt time.Time
}

// Service reads and writes accounts.
type Service struct {
	st       *store.Store
	projects *projects.Service
	now      func() time.Time
	cost     HashCost
}

// HashCost is the argon2id work of a new password hash: passes and memory in
// KiB. Checking a hash uses the parameters stored in it, so a change applies
// to passwords set afterwards.
type HashCost struct {
	Time, MemoryKiB uint32
}

// DefaultHashCost is RFC 9106's second recommended option with less memory
// (64 MiB, 3 passes), so that a small server can take a burst of log-ins.
var DefaultHashCost = HashCost{Time: 3, MemoryKiB: 64 * 1024}

// NewService returns a Service; now is the clock (nil for time.Now).
func NewService(st *store.Store, ps *projects.Service, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{st: st, projects: ps, now: now, cost: DefaultHashCost}
}

// WithHashCost sets the cost of new password hashes (tests use a small one)
// and returns s.
func (s *Service) WithHashCost(c HashCost) *Service {
	if c.Time > 0 && c.MemoryKiB >= 8 {
		s.cost = c
	}
	return s
}

// argon2id parameters besides the cost.
const (
	argonThreads = 2
	argonKeyLen  = 32
)

// HashPassword returns the encoded argon2id hash of pw with a fresh salt, at
// DefaultHashCost.
func HashPassword(pw string) (string, error) { return hashPassword(pw, DefaultHashCost) }

func hashPassword(pw string, c HashCost) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("accounts: salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, c.Time, c.MemoryKiB, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, c.MemoryKiB, c.Time, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches an encoded hash of HashPassword.
func CheckPassword(encoded, pw string) bool {
	h, ok := decodeHash(encoded)
	if !ok {
		return false
	}
	got := argon2.IDKey([]byte(pw), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(got, h.key) == 1
}

type argonHash struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// decodeHash reads "$argon2id$v=19$m=…,t=…,p=…$salt$key", refusing
// parameters no hash of ours has (so a tampered row cannot make a log-in
// allocate without bound).
func decodeHash(encoded string) (argonHash, bool) {
	var h argonHash
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return h, false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.memory, &h.time, &h.threads); err != nil ||
		h.memory == 0 || h.memory > 1<<20 || h.time == 0 || h.time > 10 || h.threads == 0 {
		return h, false
	}
	b64 := base64.RawStdEncoding
	var err1, err2 error
	h.salt, err1 = b64.DecodeString(parts[4])
	h.key, err2 = b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(h.salt) < 8 || len(h.key) < 16 || len(h.key) > 64 {
		return h, false
	}
	return h, true
}

// ValidatePassword checks a new password.
func ValidatePassword(pw string) error {
	if len(pw) < MinPassword || len(pw) > MaxPassword || !utf8.ValidString(pw) || strings.ContainsRune(pw, 0) {
		return errs.Invalid("password must be %d to %d characters", MinPassword, MaxPassword)
	}
	return nil
}

// NormalizeEmail is the stored form of an e-mail address.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func validateEmail(email string) error {
	if !projects.ValidEmail(email) {
		return errs.Invalid("email is not an e-mail address")
	}
	return nil
}

// token returns a random secret and its stored form.
func token() (clear, hashed string) {
	clear = ids.Random(40)
	return clear, hashToken(clear)
}

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// CountUsers returns how many users exist.
func (s *Service) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.st.Read().QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&n)
	return n, err
}

// CreateUser makes a user and, when projectID is not empty, a membership of
// that project with role. A taken e-mail is a Conflict.
func (s *Service) CreateUser(ctx context.Context, email, password, projectID, role string) (User, error) {
	var u User
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		u, err = s.createUser(ctx, tx, email, password)
		if err != nil {
			return err
		}
		if projectID != "" {
			return s.addMember(ctx, tx, u.ID, projectID, role)
		}
		return nil
	})
	return u, err
}

func (s *Service) createUser(ctx context.Context, tx *store.Tx, email, password string) (User, error) {
	email = NormalizeEmail(email)
	if err := validateEmail(email); err != nil {
		return User{}, err
	}
	if err := ValidatePassword(password); err != nil {
		return User{}, err
	}
	hash, err := hashPassword(password, s.cost)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	u := User{ID: ids.New("user"), Email: email, CreatedAt: store.FromMillis(store.Millis(now))}
	if _, err := tx.ExecContext(ctx, "INSERT INTO users (id, email, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
		u.ID, u.Email, hash, store.Millis(now)); err != nil {
		if errors.Is(err, store.ErrUniqueViolation) {
			return User{}, errs.Conflict("email %s already has an account", email)
		}
		return User{}, fmt.Errorf("accounts: create user: %w", err)
	}
	return u, nil
}

func (s *Service) addMember(ctx context.Context, tx *store.Tx, userID, projectID, role string) error {
	if role != RoleOwner && role != RoleMember {
		return errs.Invalid("role must be owner or member")
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO memberships (user_id, project_id, role, created_at) VALUES ($1, $2, $3, $4)",
		userID, projectID, role, store.Millis(s.now()))
	if err != nil && errors.Is(err, store.ErrUniqueViolation) {
		return errs.Conflict("this user is already a member of the project")
	}
	return err
}

// AddMemberByEmail adds the existing user with this e-mail to a project.
func (s *Service) AddMemberByEmail(ctx context.Context, projectID, email, role string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		var id string
		err := tx.QueryRowContext(ctx, "SELECT id FROM users WHERE email = $1", NormalizeEmail(email)).Scan(&id)
		if errors.Is(err, store.ErrNotFound) {
			return errs.Invalid("email: no account has this e-mail address; create it with `codeqr users create`")
		}
		if err != nil {
			return err
		}
		return s.addMember(ctx, tx, id, projectID, role)
	})
}

// RemoveMember takes a user out of a project. The last owner cannot be
// removed: a project always keeps someone who can manage it.
func (s *Service) RemoveMember(ctx context.Context, projectID, userID string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := lockMemberships(ctx, tx, projectID); err != nil {
			return err
		}
		var role string
		err := tx.QueryRowContext(ctx, "SELECT role FROM memberships WHERE project_id = $1 AND user_id = $2", projectID, userID).Scan(&role)
		if errors.Is(err, store.ErrNotFound) {
			return errs.NotFound("no such member")
		}
		if err != nil {
			return err
		}
		if role == RoleOwner {
			var owners int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM memberships WHERE project_id = $1 AND role = $2",
				projectID, RoleOwner).Scan(&owners); err != nil {
				return err
			}
			if owners <= 1 {
				return errs.Invalid("the last owner of a project cannot be removed; make another member owner first")
			}
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM memberships WHERE project_id = $1 AND user_id = $2", projectID, userID)
		return err
	})
}

// SetRole makes a member owner or member. Demoting the last owner is refused:
// a project always keeps someone who can manage it.
func (s *Service) SetRole(ctx context.Context, projectID, userID, role string) error {
	if role != RoleOwner && role != RoleMember {
		return errs.Invalid("role must be owner or member")
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := lockMemberships(ctx, tx, projectID); err != nil {
			return err
		}
		var current string
		err := tx.QueryRowContext(ctx, "SELECT role FROM memberships WHERE project_id = $1 AND user_id = $2", projectID, userID).Scan(&current)
		if errors.Is(err, store.ErrNotFound) {
			return errs.NotFound("no such member")
		}
		if err != nil {
			return err
		}
		if current == role {
			return nil
		}
		if current == RoleOwner {
			var owners int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM memberships WHERE project_id = $1 AND role = $2",
				projectID, RoleOwner).Scan(&owners); err != nil {
				return err
			}
			if owners <= 1 {
				return errs.Invalid("role: the last owner of a project cannot become a member; make another member owner first")
			}
		}
		_, err = tx.ExecContext(ctx, "UPDATE memberships SET role = $1 WHERE project_id = $2 AND user_id = $3", role, projectID, userID)
		return err
	})
}

// lockMemberships serialises the changes of a project's owners: the write on
// the project's row makes a concurrent removal or demotion wait for this
// transaction, so two of them cannot both see "another owner is left" (SQLite
// has one writer anyway; on PostgreSQL this is the row lock).
func lockMemberships(ctx context.Context, tx *store.Tx, projectID string) error {
	if _, err := tx.ExecContext(ctx, "UPDATE projects SET name = name WHERE id = $1", projectID); err != nil {
		return fmt.Errorf("accounts: lock project: %w", err)
	}
	return nil
}

// Member is a user of a project as the members list shows it.
type Member struct {
	User
	Role string
}

// Members lists the users of a project, by e-mail.
func (s *Service) Members(ctx context.Context, projectID string) ([]Member, error) {
	rows, err := s.st.Read().QueryContext(ctx, `SELECT u.id, u.email, u.created_at, m.role FROM memberships m
		JOIN users u ON u.id = m.user_id WHERE m.project_id = $1 ORDER BY u.email`, projectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		var m Member
		var created int64
		if err := rows.Scan(&m.ID, &m.Email, &created, &m.Role); err != nil {
			return nil, err
		}
		m.CreatedAt = store.FromMillis(created)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Authenticate returns the user with this e-mail and password. Any mismatch
// is the same Invalid error, so that it does not tell which part was wrong.
func (s *Service) Authenticate(ctx context.Context, email, password string) (User, error) {
	var (
		u       User
		hash    string
		created int64
	)
	err := s.st.Read().QueryRowContext(ctx, "SELECT id, email, password_hash, created_at FROM users WHERE email = $1",
		NormalizeEmail(email)).Scan(&u.ID, &u.Email, &hash, &created)
	if errors.Is(err, store.ErrNotFound) {
		// Spend the same time as a real check, so timing does not reveal
		// which e-mail addresses have accounts.
		CheckPassword(dummyHash, password)
		return User{}, errs.Invalid("wrong e-mail or password")
	}
	if err != nil {
		return User{}, fmt.Errorf("accounts: find user: %w", err)
	}
	if !CheckPassword(hash, password) {
		return User{}, errs.Invalid("wrong e-mail or password")
	}
	u.CreatedAt = store.FromMillis(created)
	return u, nil
}

// dummyHash is a well-formed hash of no one's password.
const dummyHash = "$argon2id$v=19$m=65536,t=3,p=2$c29tZXNhbHRzb21lc2FsdA$3Yb2d7hQ8nq9V1Cq4m4QbqkH6y1Xh3T0sY0m7a3uM0s"

// ChangePassword checks the current password and sets a new one; every other
// session of the user ends.
func (s *Service) ChangePassword(ctx context.Context, sess Session, current, next string) error {
	if _, err := s.Authenticate(ctx, sess.User.Email, current); err != nil {
		return errs.Invalid("current password is wrong")
	}
	if err := ValidatePassword(next); err != nil {
		return errs.Invalid("new password must be %d to %d characters", MinPassword, MaxPassword)
	}
	hash, err := hashPassword(next, s.cost)
	if err != nil {
		return err
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3",
			hash, store.Millis(s.now()), sess.User.ID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = $1 AND id <> $2", sess.User.ID, sess.ID)
		return err
	})
}

// SetPassword sets a user's password without the current one (the CLI).
func (s *Service) SetPassword(ctx context.Context, email, password string) error {
	if err := ValidatePassword(password); err != nil {
		return err
	}
	hash, err := hashPassword(password, s.cost)
	if err != nil {
		return err
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = $1, updated_at = $2 WHERE email = $3",
			hash, store.Millis(s.now()), NormalizeEmail(email))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFound("no account has the e-mail %s", email)
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE email = $1)", NormalizeEmail(email))
		return err
	})
}

// Login starts a session for u and returns the cookie token (the only time
// it exists in clear).
func (s *Service) Login(ctx context.Context, u User) (string, Session, error) {
	clear, id := token()
	now := s.now()
	sess := Session{ID: id, User: u, CSRF: ids.Random(32), ExpiresAt: store.FromMillis(store.Millis(now.Add(SessionTTL)))}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO sessions (id, user_id, csrf, project_id, created_at, expires_at) VALUES ($1, $2, $3, NULL, $4, $5)",
			sess.ID, u.ID, sess.CSRF, store.Millis(now), store.Millis(sess.ExpiresAt))
		return err
	})
	if err != nil {
		return "", Session{}, fmt.Errorf("accounts: create session: %w", err)
	}
	return clear, sess, nil
}

// Session returns the live session behind a cookie token, or
// store.ErrNotFound (unknown or expired).
func (s *Service) Session(ctx context.Context, clear string) (Session, error) {
	if clear == "" || len(clear) > 100 {
		return Session{}, store.ErrNotFound
	}
	var (
		sess             Session
		project          sql.NullString
		expires, created int64
	)
	err := s.st.Read().QueryRowContext(ctx, `SELECT s.id, s.csrf, s.project_id, s.expires_at, u.id, u.email, u.created_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1`, hashToken(clear)).
		Scan(&sess.ID, &sess.CSRF, &project, &expires, &sess.User.ID, &sess.User.Email, &created)
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, store.ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("accounts: read session: %w", err)
	}
	if expires <= store.Millis(s.now()) {
		return Session{}, store.ErrNotFound
	}
	sess.ProjectID = project.String
	sess.ExpiresAt = store.FromMillis(expires)
	sess.User.CreatedAt = store.FromMillis(created)
	return sess, nil
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, sess Session) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE id = $1", sess.ID)
		return err
	})
}

// CheckCSRF reports whether a form's token is the session's.
func (sess Session) CheckCSRF(form string) bool {
	return form != "" && subtle.ConstantTimeCompare([]byte(form), []byte(sess.CSRF)) == 1
}

// Memberships lists the projects of a user, by name.
func (s *Service) Memberships(ctx context.Context, userID string) ([]Membership, error) {
	rows, err := s.st.Read().QueryContext(ctx, `SELECT p.id, p.slug, p.name, p.owner_email, p.created_at, p.updated_at, m.role
		FROM memberships m JOIN projects p ON p.id = m.project_id WHERE m.user_id = $1 ORDER BY p.name, p.id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Membership
	for rows.Next() {
		var (
			m            Membership
			email        sql.NullString
			created, upd int64
		)
		if err := rows.Scan(&m.Project.ID, &m.Project.Slug, &m.Project.Name, &email, &created, &upd, &m.Role); err != nil {
			return nil, err
		}
		m.Project.OwnerEmail = store.NullString(email)
		m.Project.CreatedAt, m.Project.UpdatedAt = store.FromMillis(created), store.FromMillis(upd)
		out = append(out, m)
	}
	return out, rows.Err()
}

// SwitchProject makes projectID the session's current project; a project the
// user does not belong to is NotFound.
func (s *Service) SwitchProject(ctx context.Context, sess Session, projectID string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM memberships WHERE user_id = $1 AND project_id = $2", sess.User.ID, projectID).Scan(&one)
		if errors.Is(err, store.ErrNotFound) {
			return errs.NotFound("project not found")
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE sessions SET project_id = $1 WHERE id = $2", projectID, sess.ID)
		return err
	})
}

// CreateProject makes a project owned by the session's user and switches the
// session to it.
func (s *Service) CreateProject(ctx context.Context, sess Session, slug, name string) (projects.Project, error) {
	var p projects.Project
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if p, err = s.projects.CreateIn(ctx, tx, slug, name); err != nil {
			return err
		}
		if err := s.addMember(ctx, tx, sess.User.ID, p.ID, RoleOwner); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE sessions SET project_id = $1 WHERE id = $2", p.ID, sess.ID)
		return err
	})
	return p, err
}

// NewSetupToken makes a one-time set-up address token, valid for SetupTTL
// and only while no user exists.
func (s *Service) NewSetupToken(ctx context.Context) (string, error) {
	clear, id := token()
	now := s.now()
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO setup_tokens (id, created_at, expires_at) VALUES ($1, $2, $3)",
			id, store.Millis(now), store.Millis(now.Add(SetupTTL)))
		return err
	})
	return clear, err
}

// SetupValid reports whether a set-up token can still be used.
func (s *Service) SetupValid(ctx context.Context, clear string) (bool, error) {
	return s.setupValid(ctx, s.st.Read(), clear)
}

func (s *Service) setupValid(ctx context.Context, q store.Querier, clear string) (bool, error) {
	if clear == "" || len(clear) > 100 {
		return false, nil
	}
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM setup_tokens WHERE id = $1 AND used_at IS NULL AND expires_at > $2
		AND NOT EXISTS (SELECT 1 FROM users)`, hashToken(clear), store.Millis(s.now())).Scan(&n)
	return n == 1, err
}

// CompleteSetup uses a set-up token: it creates the owner account, member of
// every existing project (on a fresh server, "default"), and logs it in.
func (s *Service) CompleteSetup(ctx context.Context, clear, email, password string) (string, Session, error) {
	var u User
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		ok, err := s.setupValid(ctx, tx, clear)
		if err != nil {
			return err
		}
		if !ok {
			return errs.NotFound("this set-up address was used already or has expired; run `codeqr users create`")
		}
		if u, err = s.createUser(ctx, tx, email, password); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE setup_tokens SET used_at = $1 WHERE id = $2", store.Millis(s.now()), hashToken(clear)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO memberships (user_id, project_id, role, created_at)
			SELECT $1, id, $2, $3 FROM projects`, u.ID, RoleOwner, store.Millis(s.now()))
		return err
	})
	if err != nil {
		return "", Session{}, err
	}
	return s.Login(ctx, u)
}
