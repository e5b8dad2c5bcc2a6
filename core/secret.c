/* secret.c - see secret.h. */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int
mp_secret_read_file(const char *path, char **out, struct mp_err *err)
{
	char buf[MP_SECRET_MAX + 1];
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd, ret;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return mp_err_set(err, errno == ENOENT ? MP_ENOTFOUND : MP_EIO, "%s: %s", path,
				  strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		ret = mp_err_set(err, MP_EINVAL, "%s: not a regular file", path);
		goto out;
	}
	/* Checked on the open descriptor, so a rename in between cannot fool it. */
	if ((st.st_mode & 077) != 0) {
		ret =
		    mp_err_set(err, MP_EINVAL, "%s: others can read it; chmod 600 it first", path);
		goto out;
	}
	while (len < sizeof(buf) - 1) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = mp_err_set(err, MP_EIO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	if (len == 0) {
		ret = mp_err_set(err, MP_EINVAL, "%s: the password file is empty", path);
		goto out;
	}
	if ((*out = mp_strndup(buf, len)) == NULL) {
		ret = mp_err_set(err, MP_ENOMEM, "out of memory");
		goto out;
	}
	ret = 0;
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return ret;
}

int
mp_secret_from_env(const char *name, char **out, struct mp_err *err)
{
	const char *v = getenv(name);

	*out = NULL;
	if (v == NULL || *v == '\0')
		return mp_err_set(err, MP_ENOTFOUND, "$%s is not set", name);
	if (strlen(v) > MP_SECRET_MAX)
		return mp_err_set(err, MP_ETOOBIG, "$%s is too long", name);
	if ((*out = mp_strdup_z(v)) == NULL)
		return mp_err_set(err, MP_ENOMEM, "out of memory");
	return 0;
}
