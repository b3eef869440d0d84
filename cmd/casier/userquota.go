package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/casier/casier/internal/store"
)

// quotaFlags are the flags of "casier user quota"; an empty value means
// the flag was not given (the limit stays as it is).
type quotaFlags struct {
	storage, messages *string
}

// addQuotaFlags defines --storage and --messages on the quota subcommand
// only, so that "user add --storage" stays an error.
func addQuotaFlags(fs *flag.FlagSet, sub string) quotaFlags {
	if sub != "quota" {
		return quotaFlags{}
	}
	return quotaFlags{storage: fs.String("storage", "", ""), messages: fs.String("messages", "", "")}
}

// sizeUnits are the suffixes --storage accepts, all powers of 1024 (the
// unit of RFC 9208 STORAGE).
var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"TIB", 1 << 40}, {"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10},
	{"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1},
}

// parseStorage reads a storage limit ("1GiB", "500M", "1048576"; "0" or
// "none" for no limit) and returns bytes rounded up to a whole KiB, so the
// limit shown over IMAP (in KiB) is exactly the one enforced.
func parseStorage(s string) (int64, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if u == "NONE" {
		return 0, nil
	}
	mult := int64(1)
	for _, su := range sizeUnits {
		if strings.HasSuffix(u, su.suffix) {
			u, mult = strings.TrimSpace(strings.TrimSuffix(u, su.suffix)), su.mult
			break
		}
	}
	n, err := strconv.ParseInt(u, 10, 64)
	if err != nil || n < 0 || n > (math.MaxInt64-1023)/mult {
		return 0, fmt.Errorf("invalid --storage %q (want a size such as 1GiB, 500MiB, 0 or none)", s)
	}
	return (n*mult + 1023) / 1024 * 1024, nil
}

// parseMessages reads a message limit ("0" or "none" for no limit).
func parseMessages(s string) (int64, error) {
	if strings.EqualFold(strings.TrimSpace(s), "none") {
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid --messages %q (want a number, 0 or none)", s)
	}
	return n, nil
}

// userQuota shows a user's quota usage and limits, after changing the
// limits named by flags. Usage is counted as IMAP reports it (RFC 9208):
// every message in every mailbox, a copy counting again.
func userQuota(ctx context.Context, st store.Store, name string, qf quotaFlags, stdout io.Writer) error {
	u, err := st.User(ctx, name)
	if err != nil {
		return userErr(name, err)
	}
	acct, err := st.Account(ctx, u.ID)
	if err != nil {
		return userErr(name, err)
	}
	q, err := acct.Quota(ctx)
	if err != nil {
		return err
	}
	if *qf.storage != "" || *qf.messages != "" {
		storage, messages := q.StorageLimit, q.MessageLimit
		if *qf.storage != "" {
			if storage, err = parseStorage(*qf.storage); err != nil {
				return err
			}
		}
		if *qf.messages != "" {
			if messages, err = parseMessages(*qf.messages); err != nil {
				return err
			}
		}
		if err := st.SetQuota(ctx, name, storage, messages); err != nil {
			return userErr(name, err)
		}
		if q, err = acct.Quota(ctx); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "quota of %s set\n", name)
	}
	limit := func(n int64, unit string) string {
		if n == 0 {
			return "no limit"
		}
		return "limit " + strconv.FormatInt(n, 10) + unit
	}
	fmt.Fprintf(stdout, "storage: %d KiB used (%d bytes), %s\n", (q.StorageUsed+1023)/1024, q.StorageUsed, limit(q.StorageLimit/1024, " KiB"))
	fmt.Fprintf(stdout, "messages: %d used, %s\n", q.MessagesUsed, limit(q.MessageLimit, ""))
	return nil
}
