#!/usr/bin/python3
"""zonesplit.py MASTERFILE OUTDIR SERIAL: split a master file that holds several zones
(one $ORIGIN per zone, as fixtures/zones/preflight.zone does) into one zone file per
zone for unbound's auth-zone, each with its own SOA and NS records. A record whose owner
lies outside the current $ORIGIN goes to the longest zone that contains it. Prints the
zone names, one a line, and writes OUTDIR/authzones.conf."""
import os
import sys

MAX_LINES = 100000


def absolute(owner, origin):
    if owner == "@":
        return origin
    if owner.endswith("."):
        return owner.lower()
    return (owner + "." + origin).lower()


def zone_of(name, zones):
    best = None
    for z in zones:
        if (name == z or name.endswith("." + z)) and (best is None or len(z) > len(best)):
            best = z
    return best


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: zonesplit.py MASTERFILE OUTDIR SERIAL")
    src, outdir, serial = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(src, encoding="ascii") as f:
        lines = f.read().splitlines()[:MAX_LINES]
    ttl, origin, owner = "300", None, None
    zones, records = [], []
    for line in lines:
        body = line.strip()
        if not body or body.startswith(";"):
            continue
        if body.startswith("$TTL"):
            ttl = body.split()[1]
            continue
        if body.startswith("$ORIGIN"):
            origin = body.split()[1].lower()
            if origin not in zones:
                zones.append(origin)
            continue
        if origin is None:
            sys.exit(f"{src}: a record before the first $ORIGIN")
        if line[0] in " \t":
            rest = body
        else:
            first, rest = body.split(None, 1)
            owner = absolute(first, origin)
        if owner is None:
            sys.exit(f"{src}: a record without an owner")
        records.append((owner, rest))
    files = {z: [] for z in zones}
    for name, rest in records:
        z = zone_of(name, zones)
        if z is None:
            sys.exit(f"{src}: {name} lies in none of the zones")
        files[z].append(f"{name} {rest}")
    with open(os.path.join(outdir, "authzones.conf"), "w", encoding="ascii") as conf:
        # Included inside server:. transparent: the static "test." zone must not answer
        # for these names before the auth-zone does.
        for z in zones:
            conf.write(f'  local-zone: "{z}" transparent\n')
        for z in zones:
            path = os.path.join(outdir, z + "zone")
            with open(path, "w", encoding="ascii") as out:
                out.write(f"$TTL {ttl}\n$ORIGIN {z}\n")
                out.write(f"@ IN SOA ns.test. hostmaster.test. {serial} 3600 600 86400 300\n")
                out.write("@ IN NS ns.test.\n")
                out.write("\n".join(files[z]) + "\n")
            conf.write(f'auth-zone:\n  name: "{z}"\n  zonefile: "{path}"\n'
                       "  for-downstream: yes\n  for-upstream: no\n  fallback-enabled: no\n")
            print(z)


if __name__ == "__main__":
    main()
