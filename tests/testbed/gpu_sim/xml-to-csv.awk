# gpufleet testbed: turn a captured `nvidia-smi -q -x` into the CSV that `--query-gpu=... --format=csv` prints for
# the same GPUs (header with units, one row per GPU), for the fields whose XML element holds the same text.
# POSIX awk (busybox, mawk, gawk): no backreferences, no gensub.
BEGIN {
    # field|path under <gpu> (or /top-level element, or @index)|unit shown in the CSV header
    n = split("index|@index|;count|/attached_gpus|;driver_version|/driver_version|;name|product_name|;" \
        "serial|serial|;uuid|uuid|;vbios_version|vbios_version|;persistence_mode|persistence_mode|;" \
        "display_mode|display_mode|;compute_mode|compute_mode|;pstate|performance_state|;" \
        "pci.bus_id|pci/pci_bus_id|;pci.domain|pci/pci_domain|;pci.bus|pci/pci_bus|;pci.device|pci/pci_device|;" \
        "pci.device_id|pci/pci_device_id|;pci.sub_device_id|pci/pci_sub_system_id|;" \
        "memory.total|fb_memory_usage/total|MiB;memory.reserved|fb_memory_usage/reserved|MiB;" \
        "memory.used|fb_memory_usage/used|MiB;memory.free|fb_memory_usage/free|MiB;" \
        "utilization.gpu|utilization/gpu_util|%;utilization.memory|utilization/memory_util|%;" \
        "mig.mode.current|mig_mode/current_mig|;mig.mode.pending|mig_mode/pending_mig|", spec, ";")
    for (i = 1; i <= n; i++) {
        split(spec[i], part, "|")
        field[i] = part[1]; path[i] = part[2]; unit[i] = part[3]
    }
    depth = 0; gpus = 0
}
function tag_of(line,   t) {
    t = line
    sub(/^[ \t]*<\/?/, "", t)
    sub(/[ >\/].*$/, "", t)
    return t
}
function current_path(name,   p, d) {
    p = ""
    for (d = gpu_depth + 1; d <= depth; d++) p = p stack[d] "/"
    return p name
}
/\/>[ \t]*$/ { next }  # an empty element (<processes />) opens nothing
/^[ \t]*<[a-z_0-9]+>.*<\/[a-z_0-9]+>[ \t]*$/ {
    name = tag_of($0)
    value = $0
    sub(/^[ \t]*<[a-z_0-9]+>/, "", value)
    sub(/<\/[a-z_0-9]+>[ \t]*$/, "", value)
    if (in_gpu) { key = gpus SUBSEP current_path(name); if (!(key in val)) val[key] = value }
    else if (!(("/" name) in top)) top["/" name] = value
    next
}
/^[ \t]*<\/[a-z_0-9]+>[ \t]*$/ {
    if (in_gpu && depth == gpu_depth) in_gpu = 0
    depth--
    next
}
/^[ \t]*<[a-z_0-9]+( [^>]*)?>[ \t]*$/ {
    stack[++depth] = tag_of($0)
    if (stack[depth] == "gpu" && depth == 2) { in_gpu = 1; gpu_depth = depth; gpus++ }
    next
}
END {
    line = ""
    for (i = 1; i <= n; i++) line = line (i > 1 ? ", " : "") field[i] (unit[i] != "" ? " [" unit[i] "]" : "")
    print line
    for (g = 1; g <= gpus; g++) {
        line = ""
        for (i = 1; i <= n; i++) {
            if (path[i] == "@index") value = g - 1
            else if (substr(path[i], 1, 1) == "/") value = top[path[i]]
            else if ((g SUBSEP path[i]) in val) value = val[g SUBSEP path[i]]
            else value = "[N/A]"
            if (value == "N/A") value = "[N/A]"
            # -q -x writes PCI numbers without the 0x that the CSV shows.
            if (field[i] ~ /^pci\.(domain|bus|device|device_id|sub_device_id)$/ && value !~ /^(0x|\[)/) value = "0x" value
            line = line (i > 1 ? ", " : "") value
        }
        print line
    }
}
